"""Reminder-plan experiments through the HTTP API: arms assigned and kept, reminders that follow
them, stopping, and the report's figures."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from notifier.attendance.experiments import ExperimentIn, start_experiment
from notifier.attendance.statistics import compare, wilson
from notifier.attendance.tables import experiments
from notifier.centers.tables import centers
from notifier.domain.attendance import Arm, assign_arm
from notifier.errors import Conflict
from tests.integration.test_appointments_api import NOW, booking

H = 3600
PLANS = {"24h,2h": [24 * H, 2 * H], "48h,3h": [48 * H, 3 * H]}
TRIAL = {
    "center": "seosan",
    "name": "48시간 전 안내 비교",
    "arms": [{"plan": "2h, 24h", "share": 0.5}, {"plan": "48h,3h", "share": 0.5}],
}
LATER = "2026-12-10T14:00:00+09:00"  # far enough ahead for every reminder of both plans


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('admin', name='seosan-manager', owner='seosan-manager')}"}


def reminder_offsets(appointment) -> list[int]:
    return [r["offset_seconds"] for r in appointment["reminders"] if r["send_at"] is not None]


def book(client, headers, external_id, **changes):
    answer = client.put(
        f"/v1/appointments/{external_id}", json=booking(starts_at=LATER, **changes), headers=headers
    )
    assert answer.status_code in (200, 201), answer.json
    return answer.json


def test_a_started_experiment_is_stored_with_its_plans_named(client, admin, clock) -> None:
    started = client.post("/v1/experiments", json=TRIAL, headers=admin)
    assert started.status_code == 201
    experiment = started.json
    assert experiment["arms"] == [{"plan": "24h,2h", "share": 0.5}, {"plan": "48h,3h", "share": 0.5}]
    assert experiment["status"] == "running"
    assert client.get(f"/v1/experiments/{experiment['id']}", headers=admin).json == experiment
    overlapping = client.post("/v1/experiments", json=TRIAL, headers=admin)
    assert overlapping.status_code == 409


@pytest.mark.parametrize(
    ("arms", "pointer"),
    [
        ([{"plan": "24h,2h", "share": 0.5}, {"plan": "2h,24h", "share": 0.5}], "/arms"),
        ([{"plan": "24h,2h", "share": 0.5}, {"plan": "48h,3h", "share": 0.6}], "/arms"),
        ([{"plan": "24h,2h", "share": 1.0}], "/arms"),
        ([{"plan": "24 hours", "share": 0.5}, {"plan": "48h", "share": 0.5}], "/arms/0/plan"),
    ],
)
def test_bad_arms_are_a_422_and_start_nothing(client, admin, clock, arms, pointer) -> None:
    answer = client.post("/v1/experiments", json={**TRIAL, "arms": arms}, headers=admin)
    assert answer.status_code == 422
    assert pointer in [e["pointer"] for e in answer.json["errors"]]
    assert client.post("/v1/experiments", json=TRIAL, headers=admin).status_code == 201  # none was stored


def test_experiments_need_the_admin_scope(client, headers, clock) -> None:
    assert client.post("/v1/experiments", json=TRIAL, headers=headers).status_code == 403


def test_each_new_appointment_gets_its_arm_and_reminders_follow_its_plan(
    client, headers, admin, clock
) -> None:
    experiment = client.post("/v1/experiments", json=TRIAL, headers=admin).json
    arms = [Arm(a["plan"], a["share"]) for a in experiment["arms"]]
    seen = set()
    for index in range(12):
        appointment = book(client, headers, f"e{index}")
        arm = assign_arm(appointment["id"], experiment["id"], arms)
        assert appointment["experiment"] == {"experiment_id": experiment["id"], "arm": arm}
        assert appointment["reminder_plan"] == arm
        assert reminder_offsets(appointment) == PLANS[arm]
        reminders = [m for m in appointment["messages"] if m["purpose"] == "reminder"]
        assert len(reminders) == 2
        seen.add(arm)
    assert seen == set(PLANS)  # twelve appointments reach both arms (fixed by the hash)


def test_a_moved_appointment_keeps_its_arm_and_plan(client, headers, admin, clock) -> None:
    experiment = client.post("/v1/experiments", json=TRIAL, headers=admin).json
    booked = [book(client, headers, f"m{index}") for index in range(8)]
    first = next(a for a in booked if a["experiment"]["arm"] == "48h,3h")
    client.post(f"/v1/experiments/{experiment['id']}/stop", headers=admin)
    moved = client.put(
        f"/v1/appointments/{first['external_id']}",
        json=booking(starts_at="2026-12-11T10:00:00+09:00", version=2),
        headers=headers,
    ).json
    assert moved["revision"] == 2
    assert moved["experiment"] == first["experiment"]
    assert reminder_offsets(moved) == PLANS["48h,3h"]
    pending = [m for m in moved["messages"] if m["purpose"] == "reminder" and m["status"] == "scheduled"]
    assert len(pending) == 2


def test_stopping_sends_new_appointments_to_the_default_plan(client, headers, admin, clock) -> None:
    experiment = client.post("/v1/experiments", json=TRIAL, headers=admin).json
    before = book(client, headers, "s1")
    stopped = client.post(f"/v1/experiments/{experiment['id']}/stop", headers=admin)
    assert (stopped.status_code, stopped.json["status"]) == (200, "stopped")
    again = client.post(f"/v1/experiments/{experiment['id']}/stop", headers=admin)
    assert again.json["stopped_at"] == stopped.json["stopped_at"]
    after = book(client, headers, "s2")
    assert after["experiment"] is None
    assert after["reminder_plan"] == "24h,2h"  # NOTIFIER_REMINDER_OFFSETS, the default
    assert client.get("/v1/appointments/s1", headers=headers).json["experiment"] == before["experiment"]
    assert client.post("/v1/experiments", json=TRIAL, headers=admin).status_code == 201  # the centre is free


def test_a_planned_experiment_assigns_nothing_before_its_start(client, headers, admin, clock) -> None:
    planned = client.post(
        "/v1/experiments", json={**TRIAL, "starts_at": "2026-12-02T00:00:00+09:00"}, headers=admin
    ).json
    assert planned["status"] == "planned"
    assert book(client, headers, "p1")["experiment"] is None
    clock.now = NOW + timedelta(days=1)
    assert book(client, headers, "p2")["experiment"]["experiment_id"] == planned["id"]


def test_the_report_compares_each_arm_with_the_first(client, headers, admin, clock) -> None:
    experiment = client.post("/v1/experiments", json=TRIAL, headers=admin).json
    booked = [book(client, headers, f"r{index}") for index in range(24)]
    clock.now = NOW + timedelta(days=9, hours=6)  # after the appointments started
    counts = {plan: {"nobs": 0, "no_shows": 0} for plan in PLANS}
    for index, appointment in enumerate(booked):
        arm = appointment["experiment"]["arm"]
        # The second arm misses fewer: every third of its people is a no-show, every second of the first's.
        no_show = index % (2 if arm == "24h,2h" else 3) == 0
        result = "no_show" if no_show else "attended"
        path = f"/v1/appointments/{appointment['external_id']}/outcome"
        assert client.post(path, json={"outcome": result}, headers=headers).status_code == 200
        counts[arm]["nobs"] += 1
        counts[arm]["no_shows"] += no_show
    report = client.get(f"/v1/experiments/{experiment['id']}/report", headers=admin)
    assert report.status_code == 200
    control, other = report.json["arms"]
    assert (control["plan"], other["plan"]) == ("24h,2h", "48h,3h")
    for arm in (control, other):
        observed = counts[arm["plan"]]
        assert (arm["appointments"], arm["outcomes_known"], arm["no_shows"]) == (
            observed["nobs"],
            observed["nobs"],
            observed["no_shows"],
        )
        interval = wilson(observed["no_shows"], observed["nobs"])
        assert (arm["no_show_rate_low"], arm["no_show_rate_high"]) == pytest.approx(
            (interval.low, interval.high)
        )
    assert "difference" not in control
    expected = compare(
        counts["48h,3h"]["no_shows"],
        counts["48h,3h"]["nobs"],
        counts["24h,2h"]["no_shows"],
        counts["24h,2h"]["nobs"],
    )
    assert other["difference"] == pytest.approx(expected.difference)
    assert (other["difference_low"], other["difference_high"]) == pytest.approx(
        (expected.interval.low, expected.interval.high)
    )
    assert other["p_value"] == pytest.approx(expected.p_value)
    assert other["n_per_arm_for_80_power"] == expected.n_per_arm_for_80_power


def test_an_unknown_experiment_is_a_404(client, admin, clock) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for method, path in (("get", ""), ("post", "/stop"), ("get", "/report")):
        answer = getattr(client, method)(f"/v1/experiments/{unknown}{path}", headers=admin)
        assert answer.status_code == 404


def test_an_experiment_past_its_end_assigns_nothing_more(client, headers, admin, clock) -> None:
    ending = {**TRIAL, "ends_at": "2026-12-02T10:00:00+09:00"}
    experiment = client.post("/v1/experiments", json=ending, headers=admin).json
    during = book(client, headers, "n1")
    assert during["experiment"]["experiment_id"] == experiment["id"]
    clock.now = NOW + timedelta(days=1)  # 2026-12-02 10:00 in Seoul: the end
    assert client.get(f"/v1/experiments/{experiment['id']}", headers=admin).json["status"] == "ended"
    after = book(client, headers, "n2")
    assert (after["experiment"], after["reminder_plan"]) == (None, "24h,2h")
    assert client.get("/v1/appointments/n1", headers=headers).json["experiment"] == during["experiment"]


def wait_until_a_session_of_this_database_waits_for_a_lock(engine, timeout: float = 10.0) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:  # a fresh snapshot each time
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.02)
    raise TimeoutError("no session started waiting for a lock")


def test_of_two_overlapping_starts_at_once_the_second_waits_and_is_refused(ctx, clock) -> None:
    body = ExperimentIn.model_validate(TRIAL)
    with ctx.engine.connect() as first, ThreadPoolExecutor(max_workers=1) as pool:
        # The first start holds the centre's row and has stored its experiment, not yet committed.
        first.execute(select(centers.c.code).where(centers.c.code == "seosan").with_for_update())
        first.execute(
            experiments.insert().values(
                id="first",
                center_code="seosan",
                name="먼저",
                arms=TRIAL["arms"],
                starts_at=NOW,
                created_by="manager",
                created_at=NOW,
            )
        )
        second = pool.submit(start_experiment, ctx, "manager", body)
        wait_until_a_session_of_this_database_waits_for_a_lock(ctx.engine)
        first.commit()
        with pytest.raises(Conflict, match="experiment first already runs"):
            second.result(timeout=10)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(experiments)).scalar_one() == 1
