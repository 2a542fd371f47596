"""The appointment rules without a database: the claim check, changes, the reminder plan, the page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifier.appointments.appointment import Appointment
from notifier.appointments.rules import (
    AppointmentNow,
    LocalQuietHours,
    QueuedNotice,
    answer_after_change,
    check_changeable,
    min_gap,
    notice_after_change,
    page_closed,
    reminder_plan,
    shows_the_same,
    still_true,
    verdict,
)
from notifier.domain.appointment_status import AppointmentStatus
from notifier.domain.message_status import Status
from notifier.domain.quiet_hours import QuietHours
from notifier.errors import Conflict

SEOUL = ZoneInfo("Asia/Seoul")
QUIET = LocalQuietHours(SEOUL, QuietHours())  # 21:00-08:00
H = timedelta(hours=1)


def kst(day: int, hour: int, minute: int = 0) -> datetime:
    """Return 2026-12-<day> hour:minute in Seoul, as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SEOUL).astimezone(UTC)


def booked(**changes: Any) -> Appointment:
    appointment = Appointment(
        id="a-1",
        owner="seosan",
        external_id="bk-1",
        version=None,
        revision=1,
        request_hash="h",
        status=AppointmentStatus.BOOKED,
        recipient={"name": "홍길동", "phone": "010-1234-5678", "locale": "ko"},
        center_code="seosan",
        kind="in_depth_counseling",
        starts_at=kst(3, 14),
        duration_minutes=50,
        counselor="김상담",
        location="2층 상담실",
        channels=["sms"],
        reminder_plan=[],
        created_at=kst(1, 9),
        updated_at=kst(1, 9),
    )
    return replace(appointment, **changes)


def notice(purpose: str = "reminder", revision: int | None = 1) -> QueuedNotice:
    return QueuedNotice(f"m-{purpose}", "a-1", revision, purpose)


NOW_APPOINTMENT = AppointmentNow(revision=1, starts_at=kst(3, 14), quiet=QUIET)


# The claim check


def test_a_notice_for_the_current_revision_before_the_appointment_is_still_true() -> None:
    assert verdict(notice("reminder"), NOW_APPOINTMENT, kst(3, 12)) is None
    assert verdict(notice("confirmation"), NOW_APPOINTMENT, kst(2, 9)) is None


def test_rescheduled_appointment_never_sends_old_reminder() -> None:
    moved = replace(NOW_APPOINTMENT, revision=2)
    assert verdict(notice("reminder", revision=1), moved, kst(3, 12)) == (
        Status.CANCELLED,
        "appointment changed (now revision 2)",
    )


def test_a_message_made_before_revisions_were_recorded_is_not_sent() -> None:
    assert verdict(notice("reminder", revision=None), NOW_APPOINTMENT, kst(3, 12)) is not None


def test_a_deleted_appointment_sends_nothing() -> None:
    assert verdict(notice(), None, kst(3, 12)) == (Status.CANCELLED, "appointment no longer exists")


def test_nothing_is_sent_once_the_appointment_has_started() -> None:
    for now in (kst(3, 14), kst(3, 15)):
        assert verdict(notice("change"), NOW_APPOINTMENT, now) == (
            Status.EXPIRED,
            "the appointment has already started",
        )


def test_a_reminder_due_in_quiet_hours_expires_but_a_notice_still_goes() -> None:
    late_evening = kst(2, 22)
    assert verdict(notice("reminder"), NOW_APPOINTMENT, late_evening) == (
        Status.EXPIRED,
        "a reminder due now would arrive in quiet hours",
    )
    assert verdict(notice("change"), NOW_APPOINTMENT, late_evening) is None


def test_a_reminder_of_an_unknown_centre_is_not_held_for_quiet_hours() -> None:
    no_centre = replace(NOW_APPOINTMENT, quiet=None)
    assert verdict(notice("reminder"), no_centre, kst(2, 22)) is None


def test_still_true_answers_only_for_the_notices_that_may_not_go() -> None:
    notices = [
        notice("reminder", revision=1),
        QueuedNotice("m-old", "a-1", 0, "reminder"),
        QueuedNotice("m-gone", "a-2", 1, "confirmation"),
    ]
    verdicts = still_true(notices, {"a-1": NOW_APPOINTMENT}, kst(3, 12))
    assert set(verdicts) == {"m-old", "m-gone"}
    assert {status for status, _ in verdicts.values()} == {Status.CANCELLED}


# Changes by the booking system


def test_a_cancelled_appointment_cannot_be_changed() -> None:
    with pytest.raises(Conflict, match="cancelled"):
        check_changeable(booked(status=AppointmentStatus.CANCELLED), None)


def test_a_versioned_appointment_needs_a_newer_version() -> None:
    versioned = booked(version=5)
    for stale in (None, 4, 5):
        with pytest.raises(Conflict):
            check_changeable(versioned, stale)
    check_changeable(versioned, 6)


def test_an_unversioned_appointment_takes_any_change() -> None:
    check_changeable(booked(), None)
    check_changeable(booked(), 1)


def test_only_a_version_bump_shows_the_person_nothing_new() -> None:
    existing = booked(version=1)
    assert shows_the_same(existing, replace(existing, version=2, revision=2, request_hash="other"))
    assert not shows_the_same(existing, replace(existing, starts_at=kst(4, 14)))
    assert not shows_the_same(existing, replace(existing, counselor="이상담"))


def test_a_move_in_time_or_place_sends_a_change_notice() -> None:
    existing = booked()
    assert notice_after_change(existing, replace(existing, starts_at=kst(4, 14)), ["reminder"]) == "change"
    assert notice_after_change(existing, replace(existing, location="3층"), []) == "change"


def test_a_new_counselor_alone_sends_no_notice() -> None:
    existing = booked()
    assert notice_after_change(existing, replace(existing, counselor="이상담"), ["reminder"]) is None


def test_a_change_before_the_confirmation_went_out_confirms_the_new_booking() -> None:
    existing = booked()
    changed = replace(existing, starts_at=kst(4, 14))
    assert notice_after_change(existing, changed, ["confirmation", "reminder"]) == "confirmation"


# The reminder plan


def test_min_gap_is_half_the_shortest_offset_at_most_thirty_minutes() -> None:
    assert min_gap((24 * H, 2 * H)) == timedelta(minutes=30)
    assert min_gap((timedelta(minutes=40),)) == timedelta(minutes=20)
    assert min_gap(()) == timedelta(minutes=30)


def test_a_booking_a_day_ahead_gets_both_reminders() -> None:
    plan = reminder_plan(kst(3, 14), (24 * H, 2 * H), SEOUL, QuietHours(), kst(2, 9))
    assert [(e.outcome, e.send_at) for e in plan] == [("scheduled", kst(2, 14)), ("scheduled", kst(3, 12))]


def test_a_reminder_right_after_the_notice_is_dropped() -> None:
    plan = reminder_plan(kst(3, 14), (2 * H,), SEOUL, QuietHours(), kst(3, 11, 50))
    [entry] = plan
    assert (entry.outcome, entry.send_at) == ("dropped_too_close", None)
    assert entry.stored() == {
        "offset_seconds": 7200,
        "outcome": "dropped_too_close",
        "send_at": None,
        "note": "it would arrive right after the notice",
    }


def test_a_reminder_right_after_a_notice_held_back_by_quiet_hours_is_dropped() -> None:
    # Booked at 06:37 for 08:20 the next day: the confirmation waits until 08:00, the day-ahead
    # reminder would follow it twenty minutes later.
    plan = reminder_plan(kst(3, 8, 20), (24 * H, 2 * H), SEOUL, QuietHours(), kst(2, 6, 37), kst(2, 8))
    assert (plan[0].offset, plan[0].outcome, plan[0].send_at) == (24 * H, "dropped_too_close", None)
    assert plan[1].outcome == "moved_for_quiet_hours"  # 06:20 is quiet: the evening before
    sent_at_once = reminder_plan(kst(3, 8, 20), (24 * H,), SEOUL, QuietHours(), kst(2, 6, 37))
    assert sent_at_once[0].outcome == "scheduled"  # a notice sent at 06:37 is far enough before it


def test_the_stored_plan_keeps_send_at_as_iso_text() -> None:
    [entry] = reminder_plan(kst(3, 14), (2 * H,), SEOUL, QuietHours(), kst(2, 9))
    assert entry.stored()["send_at"] == kst(3, 12).isoformat()


# The person's page


def test_the_page_closes_when_the_appointment_ends() -> None:
    appointment = booked()
    assert not page_closed(appointment, kst(3, 14, 49))
    assert page_closed(appointment, kst(3, 14, 50))


def test_an_answer_given_for_the_old_time_is_cleared_when_the_time_moves() -> None:
    confirmed = booked(attendance="confirmed", attendance_at=kst(2, 10))
    moved = answer_after_change(confirmed, replace(confirmed, starts_at=kst(4, 10)))
    assert (moved.attendance, moved.attendance_at) == (None, None)


def test_an_answer_survives_a_change_that_keeps_the_time() -> None:
    confirmed = booked(attendance="confirmed", attendance_at=kst(2, 10))
    relocated = answer_after_change(confirmed, replace(confirmed, location="3층 상담실"))
    assert (relocated.attendance, relocated.attendance_at) == ("confirmed", kst(2, 10))
