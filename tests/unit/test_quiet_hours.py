"""Quiet hours: judged in the recipient's local time, spanning midnight, start in, end out."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.quiet_hours import (
    QuietHours,
    in_quiet_hours,
    last_allowed_before,
    next_allowed_at,
)

SEOUL = ZoneInfo("Asia/Seoul")
DEFAULT = QuietHours()


def kst(day: int, hour: int, minute: int = 0) -> datetime:
    """Return 2025-12-<day> hour:minute in Seoul, as UTC (the form times are stored in)."""
    return datetime(2025, 12, day, hour, minute, tzinfo=SEOUL).astimezone(UTC)


# --- parsing ------------------------------------------------------------------------------


def test_default_quiet_hours_are_21_to_8() -> None:
    assert QuietHours.parse("21:00-08:00") == DEFAULT == QuietHours(time(21), time(8))


def test_parse_tolerates_spaces_and_single_digit_hours() -> None:
    assert QuietHours.parse(" 22:30 - 7:00 ") == QuietHours(time(22, 30), time(7))


@pytest.mark.parametrize("spec", ["", "21-08", "21:00", "21:00-08", "25:00-08:00", "21:60-08:00"])
def test_malformed_quiet_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours.parse(spec)


def test_quiet_hours_with_a_time_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        QuietHours(time(21, tzinfo=UTC), time(8))


# --- in or out ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [
        (12, 0, False),
        (20, 59, False),
        (21, 0, True),
        (23, 30, True),
        (0, 0, True),
        (6, 0, True),
        (7, 59, True),
        (8, 0, False),
    ],
)
def test_default_quiet_hours_start_inclusive_end_exclusive(hour: int, minute: int, quiet: bool) -> None:
    assert in_quiet_hours(kst(3, hour, minute), SEOUL, DEFAULT) is quiet


def test_quiet_hours_are_judged_in_local_time_not_utc() -> None:
    # 13:00 UTC is 22:00 in Seoul.
    assert in_quiet_hours(datetime(2025, 12, 3, 13, 0, tzinfo=UTC), SEOUL, DEFAULT)
    assert not in_quiet_hours(datetime(2025, 12, 3, 13, 0, tzinfo=UTC), ZoneInfo("UTC"), DEFAULT)


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours.parse("12:00-13:00")
    assert not in_quiet_hours(kst(3, 11, 59), SEOUL, lunch)
    assert in_quiet_hours(kst(3, 12, 0), SEOUL, lunch)
    assert not in_quiet_hours(kst(3, 13, 0), SEOUL, lunch)


@pytest.mark.parametrize("hour", [0, 8, 21, 23])
def test_equal_start_and_end_means_no_quiet_hours(hour: int) -> None:
    assert not in_quiet_hours(kst(3, hour), SEOUL, QuietHours.parse("08:00-08:00"))


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        in_quiet_hours(datetime(2025, 12, 3, 22, 0), SEOUL, DEFAULT)


# --- the edges of a quiet period ----------------------------------------------------------


def test_late_evening_moves_back_to_2059_the_same_day() -> None:
    assert last_allowed_before(kst(3, 23, 30), SEOUL, DEFAULT) == kst(3, 20, 59)


def test_early_morning_moves_back_to_2059_the_day_before() -> None:
    assert last_allowed_before(kst(3, 6, 0), SEOUL, DEFAULT) == kst(2, 20, 59)


def test_allowed_moment_is_its_own_last_allowed_time() -> None:
    assert last_allowed_before(kst(3, 14, 0), SEOUL, DEFAULT) == kst(3, 14, 0)


def test_results_are_in_utc() -> None:
    assert last_allowed_before(kst(3, 23, 30), SEOUL, DEFAULT).tzinfo is UTC
    assert next_allowed_at(kst(3, 23, 30), SEOUL, DEFAULT).tzinfo is UTC
    assert last_allowed_before(kst(3, 14), SEOUL, DEFAULT).tzinfo is UTC


def test_message_held_at_night_is_released_at_8_next_morning() -> None:
    assert next_allowed_at(kst(3, 23, 30), SEOUL, DEFAULT) == kst(4, 8, 0)


def test_message_held_before_dawn_is_released_at_8_the_same_morning() -> None:
    assert next_allowed_at(kst(3, 6, 0), SEOUL, DEFAULT) == kst(3, 8, 0)


def test_allowed_moment_is_released_at_once() -> None:
    assert next_allowed_at(kst(3, 14, 0), SEOUL, DEFAULT) == kst(3, 14, 0)


_MINUTE = timedelta(minutes=1)
_MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
_CLOCKS = st.builds(time, st.integers(0, 23), st.integers(0, 59))
_QUIET = st.builds(QuietHours, _CLOCKS, _CLOCKS)


@given(_MOMENTS, _QUIET)
def test_last_allowed_time_is_the_minute_just_before_the_quiet_period(
    moment: datetime, quiet: QuietHours
) -> None:
    allowed = last_allowed_before(moment, SEOUL, quiet)
    assert allowed <= moment
    assert not in_quiet_hours(allowed, SEOUL, quiet)
    if in_quiet_hours(moment, SEOUL, quiet):
        assert in_quiet_hours(allowed + _MINUTE, SEOUL, quiet)
        assert moment - allowed <= timedelta(days=1)


@given(_MOMENTS, _QUIET)
def test_next_allowed_time_is_the_end_of_the_quiet_period(moment: datetime, quiet: QuietHours) -> None:
    allowed = next_allowed_at(moment, SEOUL, quiet)
    assert allowed >= moment
    assert not in_quiet_hours(allowed, SEOUL, quiet)
    if in_quiet_hours(moment, SEOUL, quiet):
        assert in_quiet_hours(allowed - timedelta(seconds=1), SEOUL, quiet)
        assert allowed - moment <= timedelta(days=1)
