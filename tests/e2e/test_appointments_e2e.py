"""Appointments end to end: the API, a real worker and the scheduler, offsets in seconds.

Each test books against a test centre whose reminders come 8 and 4 seconds before the start and
that has no quiet hours, so the run does not depend on the time of day it happens at.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from notifier.centers import service as centers
from tests.conftest import wait_for

pytestmark = pytest.mark.slow
OFFSETS = (8, 4)


@pytest.fixture
def fast_center(ctx):
    record = centers.CenterRecord(
        code="e2e",
        name="시험고용센터",
        phone="041-661-5676",
        sms_sender="041-661-5676",
        reminder_offsets=",".join(f"{o}s" for o in OFFSETS),
        quiet_hours="00:00-00:00",
    )
    centers.load(ctx, [record])
    return "e2e"


@pytest.fixture
def headers(make_key):
    return {"Authorization": f"Bearer {make_key('appointments')}"}


@pytest.fixture
def stack(processes):
    processes("worker", "--queues", "transactional", "--concurrency", "2")
    processes("scheduler")


def put(live_api, headers, external_id, starts_at, version, **changes):
    body = {
        "recipient": {"name": "홍길동", "phone": "010-1234-5678"},
        "center": "e2e",
        "kind": "psychological_support",
        "starts_at": starts_at.isoformat(),
        "duration_minutes": 30,
        "location": "상담실 1",
        "version": version,
        **changes,
    }
    return requests.put(f"{live_api}/v1/appointments/{external_id}", json=body, headers=headers, timeout=10)


def kinds(ctx, twilio) -> list[str]:
    """What reached the handset, in order, by each message's purpose."""
    from notifier.messages import repository as repo

    with ctx.engine.connect() as conn:
        rows = [
            wait_for(lambda m=m: repo.find_by_provider_id(conn, m.sid), what=m.sid) for m in twilio.messages
        ]
    return [row["purpose"] for row in rows]


def test_booking_sends_a_confirmation_then_each_reminder_exactly_once(
    live_api, headers, stack, fast_center, twilio, ctx
):
    starts = datetime.now(UTC) + timedelta(seconds=14)
    assert put(live_api, headers, "e1", starts, 1).status_code == 201
    arrived = twilio.wait_for_messages(3, timeout=30)
    assert kinds(ctx, twilio) == ["confirmation", "reminder", "reminder"]
    for message, offset in zip(arrived[1:], OFFSETS, strict=True):
        due = starts - timedelta(seconds=offset)
        assert due - timedelta(seconds=1) <= message.date_created <= due + timedelta(seconds=10)
    wait_for(lambda: datetime.now(UTC) > starts + timedelta(seconds=3), timeout=30, what="appointment start")
    assert len(twilio.messages) == 3  # nothing after the start, nothing twice


def test_reschedule_across_a_pending_reminder_replay_and_stale_version(
    live_api, headers, stack, fast_center, twilio, ctx
):
    starts = datetime.now(UTC) + timedelta(seconds=16)
    assert put(live_api, headers, "e2", starts, 1).status_code == 201
    twilio.wait_for_messages(1, timeout=20)  # the confirmation; both reminders still pending
    later = starts + timedelta(seconds=20)
    assert put(live_api, headers, "e2", later, 2).status_code == 200
    assert put(live_api, headers, "e2", later, 2).status_code == 200  # replay: nothing new
    assert put(live_api, headers, "e2", starts, 1).status_code == 409  # stale: nothing changes
    wait_for(lambda: datetime.now(UTC) > later + timedelta(seconds=2), timeout=60, what="the new start")
    assert kinds(ctx, twilio) == ["confirmation", "change", "reminder", "reminder"]
    for message in twilio.messages[2:]:
        assert message.date_created > starts - timedelta(seconds=2)  # no reminder for the old time


def test_cancel_sends_one_notice_and_no_reminder(live_api, headers, stack, fast_center, twilio, ctx):
    starts = datetime.now(UTC) + timedelta(seconds=14)
    put(live_api, headers, "e3", starts, 1)
    twilio.wait_for_messages(1, timeout=20)
    for _ in range(2):
        assert (
            requests.delete(f"{live_api}/v1/appointments/e3", headers=headers, timeout=10).status_code == 200
        )
    wait_for(lambda: datetime.now(UTC) > starts + timedelta(seconds=2), timeout=30, what="the old start")
    assert kinds(ctx, twilio) == ["confirmation", "cancellation"]


def test_a_reminder_a_busy_worker_had_picked_up_is_not_sent_after_the_change(
    live_api, headers, processes, fast_center, twilio, ctx
):
    """Force the interleaving: the reminder is queued for the only worker, which is busy while the
    change commits; when the worker gets to it, the reminder is for a time no longer true."""
    processes("scheduler")
    starts = datetime.now(UTC) + timedelta(seconds=12)
    put(live_api, headers, "race", starts, 1)
    twilio.hold()  # the worker's first provider call (the confirmation) will hang
    processes("worker", "--queues", "transactional", "--concurrency", "1")
    twilio.wait_for_held(1, timeout=20)

    def reminder_queued():
        shown = requests.get(f"{live_api}/v1/appointments/race", headers=headers, timeout=5).json()
        return [m for m in shown["messages"] if m["purpose"] == "reminder" and m["status"] == "queued"]

    wait_for(reminder_queued, timeout=20, what="a reminder queued for the busy worker")
    assert put(live_api, headers, "race", starts + timedelta(hours=3), 2).status_code == 200
    twilio.release(record=True)
    wait_for(lambda: datetime.now(UTC) > starts + timedelta(seconds=2), timeout=30, what="the old start")
    assert kinds(ctx, twilio) == ["confirmation", "change"]
    shown = requests.get(f"{live_api}/v1/appointments/race", headers=headers, timeout=5).json()
    old = [m for m in shown["messages"] if m["purpose"] == "reminder" and m["send_at"] < (starts).isoformat()]
    assert old
    assert {m["status"] for m in old} == {"cancelled"}
