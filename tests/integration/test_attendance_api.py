"""Outcomes and the attendance report through the HTTP API, read back from the answers, the
rows and the webhook receiver."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from notifier.attendance.statistics import wilson
from notifier.webhooks import service as webhooks
from notifier.webhooks.tables import webhook_deliveries
from tests.integration.test_appointments_api import NOW, booking
from tests.integration.test_recipient_page_and_webhooks import verify

STARTS = NOW + timedelta(days=2, hours=4)  # booking()'s 2026-12-03 14:00 in Seoul
AFTER = STARTS + timedelta(hours=1)


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('admin', name='ministry', owner='ministry')}"}


def deliveries(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(webhook_deliveries)).scalar_one()


def outcome(client, headers, external_id, outcome, **fields):
    return client.post(
        f"/v1/appointments/{external_id}/outcome", json={"outcome": outcome, **fields}, headers=headers
    )


def subscribe(client, headers, receiver) -> str:
    body = {"url": receiver.url, "events": ["appointment.outcome_recorded"]}
    return client.put("/v1/webhooks", json=body, headers=headers).json["secret"]


@pytest.mark.parametrize("early", ["attended", "no_show"])
def test_attendance_before_the_start_is_a_422_and_changes_nothing(
    client, headers, clock, ctx, receiver, early
) -> None:
    subscribe(client, headers, receiver)
    client.put("/v1/appointments/o1", json=booking(), headers=headers)
    answer = outcome(client, headers, "o1", early)
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"
    assert [e["pointer"] for e in answer.json["errors"]] == ["/outcome"]
    assert "after the appointment starts" in answer.json["detail"]
    assert client.get("/v1/appointments/o1", headers=headers).json["outcome"] is None
    assert deliveries(ctx) == 0


def test_an_outcome_after_the_start_is_stored_and_sent_as_a_signed_webhook(
    client, headers, clock, ctx, receiver
) -> None:
    secret = subscribe(client, headers, receiver)
    client.put("/v1/appointments/o2", json=booking(), headers=headers)
    clock.now = AFTER
    answer = outcome(client, headers, "o2", "attended")
    assert answer.status_code == 200
    assert answer.json["outcome"] == {
        "outcome": "attended",
        "revision": 1,
        "recorded_at": AFTER.isoformat().replace("+00:00", "Z"),
        "version": None,
    }
    clock.advance(60)
    replay = outcome(client, headers, "o2", "attended")  # an identical replay changes nothing
    assert replay.status_code == 200
    assert replay.json == answer.json
    assert webhooks.deliver_due(ctx) == 1
    [call] = receiver.wait_for(1)
    payload = verify(secret, call)
    assert payload["type"] == "appointment.outcome_recorded"
    assert payload["data"]["external_id"] == "o2"
    assert (payload["data"]["outcome"], payload["data"]["replaced"]) == ("attended", None)


def test_only_a_later_outcome_replaces_the_stored_one(client, headers, clock) -> None:
    client.put("/v1/appointments/o3", json=booking(), headers=headers)
    clock.now = AFTER + timedelta(hours=1)
    first = outcome(client, headers, "o3", "no_show", recorded_at="2026-12-03T15:00:00+09:00")
    assert first.status_code == 200
    earlier = outcome(client, headers, "o3", "attended", recorded_at="2026-12-03T14:30:00+09:00")
    assert earlier.status_code == 409
    assert client.get("/v1/appointments/o3", headers=headers).json["outcome"]["outcome"] == "no_show"
    later = outcome(client, headers, "o3", "attended", recorded_at="2026-12-03T15:30:00+09:00")
    assert later.status_code == 200
    assert later.json["outcome"]["outcome"] == "attended"


def test_versioned_outcomes_need_a_newer_version(client, headers, clock) -> None:
    client.put("/v1/appointments/o4", json=booking(), headers=headers)
    clock.now = AFTER
    assert outcome(client, headers, "o4", "no_show", version=2).status_code == 200
    clock.advance(600)
    stale = outcome(client, headers, "o4", "attended", version=2)
    assert stale.status_code == 409
    assert "not newer" in stale.json["detail"]
    assert outcome(client, headers, "o4", "attended").status_code == 409  # versioned: a version is needed
    assert outcome(client, headers, "o4", "attended", version=3).json["outcome"]["version"] == 3


def test_an_outcome_belongs_to_the_revision_it_was_recorded_for(client, headers, clock) -> None:
    client.put("/v1/appointments/o5", json=booking(), headers=headers)
    clock.now = NOW + timedelta(hours=1)
    rescheduled = outcome(client, headers, "o5", "rescheduled_by_person", revision=1)
    assert rescheduled.status_code == 200  # a cancellation may come before the start
    moved = client.put(
        "/v1/appointments/o5", json=booking(version=2, starts_at="2026-12-04T14:00:00+09:00"), headers=headers
    ).json
    assert (moved["revision"], moved["outcome"]["revision"]) == (2, 1)
    stale = outcome(client, headers, "o5", "late_cancellation", revision=1)
    assert stale.status_code == 409
    clock.now = NOW + timedelta(days=3, hours=5, minutes=30)  # the new time has started
    attended = outcome(client, headers, "o5", "attended", revision=2)
    assert attended.json["outcome"]["outcome"] == "attended"
    assert attended.json["outcome"]["revision"] == 2


def test_an_unknown_outcome_or_field_is_a_422(client, headers, clock) -> None:
    client.put("/v1/appointments/o6", json=booking(), headers=headers)
    clock.now = AFTER
    answer = outcome(client, headers, "o6", "maybe")
    assert answer.status_code == 422
    assert [e["pointer"] for e in answer.json["errors"]] == ["/outcome"]
    naive = outcome(client, headers, "o6", "attended", recorded_at="2026-12-03T14:30:00")
    assert [e["pointer"] for e in naive.json["errors"]] == ["/recorded_at"]
    assert client.get("/v1/appointments/o6", headers=headers).json["outcome"] is None


# The report.


def book_and_record(client, headers, clock, plan: dict[str, list[tuple[str, str | None]]]) -> None:
    """Book one appointment per (kind, outcome) of each centre, then record the outcomes after the start."""
    clock.now = NOW
    booked = []
    for center, entries in plan.items():
        for index, (kind, result) in enumerate(entries):
            external_id = f"{center}-{index}"
            body = booking(center=center, kind=kind)
            assert (
                client.put(f"/v1/appointments/{external_id}", json=body, headers=headers).status_code == 201
            )
            booked.append((external_id, result))
    clock.now = AFTER
    for external_id, result in booked:
        if result is not None:
            assert outcome(client, headers, external_id, result).status_code == 200


COUNSELING = "in_depth_counseling"
SUPPORT = "psychological_support"
PLAN = {
    "seosan": [(COUNSELING, "attended")] * 4 + [(COUNSELING, "no_show")] * 2 + [(COUNSELING, None)],
    "gumi": [(SUPPORT, "no_show"), (SUPPORT, "attended"), (SUPPORT, None)],
}


def test_the_report_counts_each_group_and_hides_small_ones(client, headers, admin, clock) -> None:
    book_and_record(client, headers, clock, PLAN)
    answer = client.get("/v1/reports/attendance?group_by=center&from=2026-12-01T00:00:00Z", headers=admin)
    assert answer.status_code == 200
    rows = {row["center"]: row for row in answer.json["rows"]}
    interval = wilson(2, 6)
    assert rows["seosan"] == {
        "center": "seosan",
        "appointments": 7,
        "outcomes_known": 6,
        "attended": 4,
        "no_shows": 2,
        "confirmed": 0,
        "no_show_rate": pytest.approx(2 / 6),
        "no_show_rate_low": pytest.approx(interval.low),
        "no_show_rate_high": pytest.approx(interval.high),
    }
    assert rows["gumi"] == {
        "center": "gumi",
        "appointments": "<5",
        "outcomes_known": "<5",
        "attended": "<5",
        "no_shows": "<5",
        "confirmed": "<5",
        "no_show_rate": None,
        "no_show_rate_low": None,
        "no_show_rate_high": None,
    }


def test_the_report_groups_by_time_on_the_seoul_clock_and_by_lead_time(client, headers, admin, clock) -> None:
    book_and_record(client, headers, clock, PLAN)
    query = "group_by=weekday&group_by=hour,lead_time,channel,reminder_plan,confirmed_on_page&center=seosan"
    [row] = client.get(f"/v1/reports/attendance?{query}&from=2026-12-01T00:00:00Z", headers=admin).json[
        "rows"
    ]
    # 2026-12-03 14:00 in Seoul is a Thursday; booked two days and four hours ahead.
    assert (row["weekday"], row["hour"], row["lead_time"]) == (4, 14, "2-7d")
    assert (row["channel"], row["reminder_plan"], row["confirmed_on_page"]) == ("sms", "24h,2h", False)
    assert row["appointments"] == 7


def test_weekday_and_hour_are_those_of_seoul_across_midnight(client, headers, admin, clock) -> None:
    for external_id, starts_at in (
        ("late-sunday", "2026-12-06T23:30:00+09:00"),  # Sunday in Seoul and in UTC (14:30)
        ("monday-morning", "2026-12-07T08:00:00+09:00"),  # Monday in Seoul, still Sunday 23:00 UTC
    ):
        body = booking(starts_at=starts_at, center="gumi")
        assert client.put(f"/v1/appointments/{external_id}", json=body, headers=headers).status_code == 201
    december = "from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z"
    url = f"/v1/reports/attendance?group_by=weekday,hour&center=gumi&{december}"
    rows = client.get(url, headers=admin).json["rows"]
    assert [(row["weekday"], row["hour"], row["appointments"]) for row in rows] == [
        (1, 8, "<5"),
        (7, 23, "<5"),
    ]


def test_the_report_filters_by_kind_and_time(client, headers, admin, clock) -> None:
    book_and_record(client, headers, clock, PLAN)
    base = "/v1/reports/attendance?group_by=kind"
    [row] = client.get(f"{base}&from=2026-12-01T00:00:00Z&kind={COUNSELING}", headers=admin).json["rows"]
    assert (row["kind"], row["appointments"]) == (COUNSELING, 7)
    later = client.get(f"{base}&from=2026-12-04T00:00:00Z&to=2027-01-01T00:00:00Z", headers=admin).json
    assert later["rows"] == []


def test_the_report_as_csv_has_the_same_columns_and_hides_the_same_cells(
    client, headers, admin, clock
) -> None:
    book_and_record(client, headers, clock, PLAN)
    url = "/v1/reports/attendance?group_by=center&from=2026-12-01T00:00:00Z"
    for answer in (
        client.get(f"{url}&format=csv", headers=admin),
        client.get(url, headers={**admin, "Accept": "text/csv"}),
    ):
        assert answer.status_code == 200
        assert answer.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
        assert list(rows[0]) == [
            "center",
            "appointments",
            "outcomes_known",
            "attended",
            "no_shows",
            "confirmed",
            "no_show_rate",
            "no_show_rate_low",
            "no_show_rate_high",
        ]
        by_center = {row["center"]: row for row in rows}
        assert by_center["gumi"]["appointments"] == "<5"
        assert by_center["gumi"]["no_show_rate"] == ""
        assert (by_center["seosan"]["appointments"], by_center["seosan"]["no_show_rate"]) == ("7", "0.3333")


def test_the_report_refuses_unknown_groups_and_needs_admin(client, headers, admin, clock) -> None:
    bad = client.get("/v1/reports/attendance?group_by=center,colour", headers=admin)
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json["errors"]] == ["/group_by/1"]
    assert client.get("/v1/reports/attendance?channel=fax", headers=admin).status_code == 422
    assert client.get("/v1/reports/attendance", headers=headers).status_code == 403


def test_the_documented_query_lists_the_groups_and_filters_as_enums(client) -> None:
    spec = client.get("/openapi.json").json
    parameters = {p["name"]: p for p in spec["paths"]["/v1/reports/attendance"]["get"]["parameters"]}
    group_by = parameters["group_by"]["schema"]
    assert set(group_by["items"]["enum"]) == {
        "center", "kind", "channel", "reminder_plan", "confirmed_on_page", "lead_time", "weekday", "hour"
    }  # fmt: skip
    assert parameters["channel"]["schema"]["enum"] == ["sms", "email", "email+sms"]
    assert parameters["format"]["schema"]["enum"] == ["json", "csv"]
