"""Reminder offsets and the reminder plan for one appointment, with a pinned clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.quiet_hours import QuietHours, in_quiet_hours
from notifier.domain.reminders import (
    DEFAULT_MIN_GAP,
    PlannedReminder,
    ReminderOutcome,
    format_offset,
    parse_offsets,
    plan_reminders,
)

SEOUL = ZoneInfo("Asia/Seoul")
QUIET = QuietHours()
H = timedelta(hours=1)
DAY_AND_TWO_HOURS = (timedelta(hours=24), timedelta(hours=2))


def kst(day: int, hour: int, minute: int = 0) -> datetime:
    """Return 2025-12-<day> hour:minute in Seoul, as UTC."""
    return datetime(2025, 12, day, hour, minute, tzinfo=SEOUL).astimezone(UTC)


def plan(starts_at: datetime, offsets: tuple[timedelta, ...], now: datetime) -> list[PlannedReminder]:
    return plan_reminders(starts_at, offsets, now, SEOUL, QUIET)


def outcomes(planned: list[PlannedReminder]) -> list[tuple[str, datetime | None]]:
    return [(p.outcome.value, p.send_at) for p in planned]


# --- parsing offsets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("24h,2h", (timedelta(hours=24), timedelta(hours=2))),
        (" 2h , 24h ", (timedelta(hours=24), timedelta(hours=2))),
        ("1d,24h,2h,2h", (timedelta(days=1), timedelta(hours=2))),
        ("90m,30s,1 d", (timedelta(days=1), timedelta(minutes=90), timedelta(seconds=30))),
        ("", ()),
        ("   ", ()),
    ],
)
def test_offsets_are_parsed_deduplicated_and_sorted_longest_first(
    spec: str, expected: tuple[timedelta, ...]
) -> None:
    assert parse_offsets(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("24", "unit s, m, h or d"),
        ("24x", "unit s, m, h or d"),
        ("24H", "unit s, m, h or d"),
        ("h", "unit s, m, h or d"),
        ("1.5h", "unit s, m, h or d"),
        ("-2h", "unit s, m, h or d"),
        ("24h,,2h", "unit s, m, h or d"),
        ("0h", "must be positive"),
    ],
)
def test_bad_offsets_are_refused_with_a_clear_message(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_offsets(spec)
    assert repr(spec) in str(caught.value)


_OFFSETS = st.lists(
    st.builds(
        timedelta,
        seconds=st.integers(min_value=1, max_value=30 * 86_400),
    ),
    max_size=6,
)


@given(_OFFSETS)
def test_formatted_offsets_parse_back_to_themselves(offsets: list[timedelta]) -> None:
    spec = ",".join(format_offset(o) for o in offsets)
    assert parse_offsets(spec) == tuple(sorted(set(offsets), reverse=True))


# --- the plan -----------------------------------------------------------------------------


def test_afternoon_appointment_gets_both_reminders_unchanged() -> None:
    planned = plan(kst(3, 14), DAY_AND_TWO_HOURS, now=kst(1, 10))
    assert outcomes(planned) == [
        ("scheduled", kst(2, 14)),
        ("scheduled", kst(3, 12)),
    ]
    assert [p.offset for p in planned] == list(DAY_AND_TWO_HOURS)


def test_morning_reminder_in_quiet_hours_moves_to_the_evening_before() -> None:
    # 9:00 appointment: 24h is 9:00 the day before (fine); 2h is 7:00, in quiet hours, so it
    # moves to 20:59 the evening before. That is 12 hours after the other one, so it stays.
    planned = plan(kst(3, 9), DAY_AND_TWO_HOURS, now=kst(1, 10))
    assert outcomes(planned) == [
        ("scheduled", kst(2, 9)),
        ("moved_for_quiet_hours", kst(2, 20, 59)),
    ]
    assert "falls in quiet hours" in planned[1].note
    assert "2025-12-02 20:59" in planned[1].note


def test_booking_one_hour_ahead_gets_no_reminders() -> None:
    planned = plan(kst(3, 14), DAY_AND_TWO_HOURS, now=kst(3, 13))
    assert outcomes(planned) == [("dropped_past", None), ("dropped_past", None)]
    assert not any(p.will_send for p in planned)


def test_reminder_due_exactly_now_is_not_created() -> None:
    planned = plan(kst(3, 14), (2 * H,), now=kst(3, 12))
    assert outcomes(planned) == [("dropped_past", None)]


def test_moved_reminder_next_to_another_is_dropped() -> None:
    # 8:30 appointment: 12h is 20:30 the day before; 1h is 7:30, would move to 20:59,
    # only 29 minutes after the 12h reminder.
    planned = plan(kst(3, 8, 30), (12 * H, H), now=kst(1, 10))
    assert outcomes(planned) == [
        ("scheduled", kst(2, 20, 30)),
        ("dropped_quiet_hours", None),
    ]
    assert "within 30m of the 12h reminder" in planned[1].note


def test_moved_reminder_exactly_min_gap_from_another_is_kept() -> None:
    planned = plan(kst(3, 8, 29), (12 * H, H), now=kst(1, 10))
    assert outcomes(planned) == [
        ("scheduled", kst(2, 20, 29)),
        ("moved_for_quiet_hours", kst(2, 20, 59)),
    ]


def test_two_reminders_moved_to_the_same_minute_keep_only_the_longer_offset() -> None:
    planned = plan(kst(3, 8, 30), (2 * H, H), now=kst(1, 10))
    assert outcomes(planned) == [
        ("moved_for_quiet_hours", kst(2, 20, 59)),
        ("dropped_quiet_hours", None),
    ]


def test_reminder_whose_moved_time_has_passed_is_dropped() -> None:
    # Booked at 22:00 for 9:00 the next morning: 24h has passed, and the 2h reminder's last
    # allowed time (20:59) has passed too.
    planned = plan(kst(3, 9), DAY_AND_TWO_HOURS, now=kst(2, 22))
    assert outcomes(planned) == [("dropped_past", None), ("dropped_quiet_hours", None)]
    assert "has passed" in planned[1].note


def test_reminder_at_the_end_of_quiet_hours_is_not_moved() -> None:
    # The end of quiet hours is allowed: 10:00 minus 2h is 8:00.
    planned = plan(kst(3, 10), (2 * H,), now=kst(1, 10))
    assert outcomes(planned) == [("scheduled", kst(3, 8))]


def test_outcomes_compare_equal_to_their_names() -> None:
    planned = plan(kst(3, 14), (2 * H,), now=kst(1, 10))
    assert planned[0].outcome == "scheduled"
    assert planned[0].outcome is ReminderOutcome.SCHEDULED


def test_send_times_are_in_utc() -> None:
    planned = plan(kst(3, 9), DAY_AND_TWO_HOURS, now=kst(1, 10))
    assert all(p.send_at is not None and p.send_at.tzinfo is UTC for p in planned)


def test_duplicate_offsets_plan_one_reminder() -> None:
    planned = plan(kst(3, 14), (2 * H, 2 * H, timedelta(minutes=120)), now=kst(1, 10))
    assert len(planned) == 1


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        plan(datetime(2025, 12, 3, 14), (2 * H,), now=kst(1, 10))
    with pytest.raises(ValueError, match="naive"):
        plan(kst(3, 14), (2 * H,), now=datetime(2025, 12, 1, 10))


@pytest.mark.parametrize("offset", [timedelta(0), -H])
def test_non_positive_offset_is_refused(offset: timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        plan(kst(3, 14), (offset,), now=kst(1, 10))


_START = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC))


@given(
    _START,
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)),
    st.lists(st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=3)), max_size=5),
)
def test_plan_never_sends_in_the_past_in_quiet_hours_after_the_start_or_too_close(
    starts_at: datetime, lead: timedelta, offsets: list[timedelta]
) -> None:
    now = starts_at - lead
    planned = plan(starts_at, tuple(offsets), now)
    assert [p.offset for p in planned] == sorted(set(offsets), reverse=True)
    sent = [p for p in planned if p.send_at is not None]
    for p in sent:
        assert p.send_at is not None
        assert now < p.send_at < starts_at
        assert not in_quiet_hours(p.send_at, SEOUL, QUIET)
        assert p.outcome in (ReminderOutcome.SCHEDULED, ReminderOutcome.MOVED_FOR_QUIET_HOURS)
    for moved in (p for p in sent if p.outcome is ReminderOutcome.MOVED_FOR_QUIET_HOURS):
        assert moved.send_at is not None
        others = [p.send_at for p in sent if p is not moved and p.offset > moved.offset]
        assert all(other is not None and abs(moved.send_at - other) >= DEFAULT_MIN_GAP for other in others)
    for p in planned:
        assert (p.send_at is None) == (
            p.outcome in (ReminderOutcome.DROPPED_PAST, ReminderOutcome.DROPPED_QUIET_HOURS)
        )
        assert p.note
