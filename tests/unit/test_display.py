"""Dates, times and durations as a recipient reads them, in Korean or English."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.display import (
    format_compact_datetime,
    format_date,
    format_datetime,
    format_duration_minutes,
    format_time,
)

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")


def utc(hour: int, minute: int = 0, day: int = 3) -> datetime:
    """Return 2025-12-<day> hour:minute UTC (3 December 2025 is a Wednesday)."""
    return datetime(2025, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (utc(5), "12월 3일(수) 오후 2시"),
        (utc(5, 30), "12월 3일(수) 오후 2시 30분"),
        (utc(0), "12월 3일(수) 오전 9시"),
        (utc(0, 5), "12월 3일(수) 오전 9시 5분"),
        (utc(3), "12월 3일(수) 오후 12시"),
        (utc(15), "12월 4일(목) 오전 12시"),
        (utc(15, 30), "12월 4일(목) 오전 12시 30분"),
        (utc(14, 59), "12월 3일(수) 오후 11시 59분"),
    ],
)
def test_utc_moment_is_shown_in_seoul_in_korean(moment: datetime, shown: str) -> None:
    assert format_datetime(moment, "ko", SEOUL) == shown


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (utc(5), "Wed 3 Dec, 2:00 PM"),
        (utc(5, 30), "Wed 3 Dec, 2:30 PM"),
        (utc(0, 5), "Wed 3 Dec, 9:05 AM"),
        (utc(3), "Wed 3 Dec, 12:00 PM"),
        (utc(15), "Thu 4 Dec, 12:00 AM"),
    ],
)
def test_utc_moment_is_shown_in_seoul_in_english(moment: datetime, shown: str) -> None:
    assert format_datetime(moment, "en", SEOUL) == shown


def test_same_instant_is_shown_in_the_recipients_zone() -> None:
    assert format_datetime(utc(5), "en", NEW_YORK) == "Wed 3 Dec, 12:00 AM"
    assert format_datetime(utc(5), "ko", NEW_YORK) == "12월 3일(수) 오전 12시"


@pytest.mark.parametrize(
    ("moment", "ko", "en"),
    [
        (utc(5), "12/3(수) 14:00", "Wed 12/3 14:00"),
        (utc(0, 5), "12/3(수) 9:05", "Wed 12/3 9:05"),
        (utc(15), "12/4(목) 0:00", "Thu 12/4 0:00"),
        (utc(5, day=31), "12/31(수) 14:00", "Wed 12/31 14:00"),
    ],
)
def test_the_compact_form_of_a_one_part_sms(moment: datetime, ko: str, en: str) -> None:
    # 24-hour clock and month/day: at most 15 bytes in cp949, so an SMS keeps room for the link.
    assert format_compact_datetime(moment, "ko", SEOUL) == ko
    assert format_compact_datetime(moment, "en", SEOUL) == en
    assert len(ko.encode("cp949")) <= 15
    assert format_compact_datetime(utc(5), "ko", NEW_YORK) == "12/3(수) 0:00"


def test_moment_given_in_another_zone_is_converted_to_seoul() -> None:
    evening_in_new_york = datetime(2025, 12, 2, 19, 0, tzinfo=NEW_YORK)  # 00:00 UTC on the 3rd
    assert format_datetime(evening_in_new_york, "ko", SEOUL) == "12월 3일(수) 오전 9시"


@pytest.mark.parametrize("locale", ["en", "en-US", "en_GB", "EN"])
def test_any_english_locale_uses_english(locale: str) -> None:
    assert format_datetime(utc(5), locale, SEOUL) == "Wed 3 Dec, 2:00 PM"


@pytest.mark.parametrize("locale", ["ko", "ko-KR", "fr", "zh-CN", ""])
def test_korean_and_unknown_locales_use_korean(locale: str) -> None:
    assert format_datetime(utc(5), locale, SEOUL) == "12월 3일(수) 오후 2시"


def test_date_and_time_can_be_shown_separately() -> None:
    assert format_date(utc(5, 30), "ko", SEOUL) == "12월 3일(수)"
    assert format_time(utc(5, 30), "ko", SEOUL) == "오후 2시 30분"
    assert format_date(utc(5, 30), "en", SEOUL) == "Wed 3 Dec"
    assert format_time(utc(5, 30), "en", SEOUL) == "2:30 PM"


@pytest.mark.parametrize("formatter", [format_datetime, format_date, format_time])
def test_naive_datetime_is_refused(formatter: Callable[[datetime, str, ZoneInfo], str]) -> None:
    with pytest.raises(ValueError, match="naive"):
        formatter(datetime(2025, 12, 3, 14, 0), "ko", SEOUL)


@given(st.integers(min_value=0, max_value=24 * 60 - 1))
def test_every_minute_of_the_day_reads_as_a_12_hour_korean_time(minute_of_day: int) -> None:
    moment = datetime(2025, 12, 3, tzinfo=SEOUL) + timedelta(minutes=minute_of_day)
    hour, minute = divmod(minute_of_day, 60)
    shown = format_time(moment, "ko", SEOUL)
    match = re.fullmatch(r"(오전|오후) (\d{1,2})시(?: (\d{1,2})분)?", shown)
    assert match is not None
    assert match.group(1) == ("오전" if hour < 12 else "오후")
    assert int(match.group(2)) == (hour % 12 or 12)
    assert int(match.group(3) or 0) == minute


@pytest.mark.parametrize(
    ("minutes", "korean", "english"),
    [
        (0, "0분", "0 minutes"),
        (1, "1분", "1 minute"),
        (50, "50분", "50 minutes"),
        (60, "1시간", "1 hour"),
        (90, "1시간 30분", "1 hour 30 minutes"),
        (121, "2시간 1분", "2 hours 1 minute"),
        (180, "3시간", "3 hours"),
    ],
)
def test_durations_read_naturally(minutes: int, korean: str, english: str) -> None:
    assert format_duration_minutes(minutes, "ko") == korean
    assert format_duration_minutes(minutes, "en") == english


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration_minutes(-1, "ko")
