"""Display filters: a template shows an ISO time or a number of minutes as the recipient reads it.

``{{ appointment.starts_at | when }}`` gives ``12월 3일(수) 오후 2시`` (``Wed 3 Dec, 2:00 PM`` in
an English variant) in the zone of the centre the message is sent for; ``| date`` and
``| time`` give either half; ``| compact_when`` gives ``12/3(수) 14:00`` (``Wed 12/3 14:00``)
for a one-part SMS; ``{{ appointment.duration_minutes | duration }}`` gives ``1시간 30분``
(``1 hour 30 minutes``). The renderer puts the variant's locale and the centre's zone in the
context under ``LOCALE_KEY`` and ``ZONE_KEY``; clients cannot set keys starting with ``_``.
The formats themselves live in ``notifier.domain.display``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from jinja2.runtime import Context as JinjaContext

from notifier.domain.display import (
    format_compact_datetime,
    format_date,
    format_datetime,
    format_duration_minutes,
    format_time,
)

LOCALE_KEY = "_locale"
ZONE_KEY = "_zone"
DEFAULT_ZONE = "Asia/Seoul"
MAX_TIME_CHARS = 40  # '2026-12-03T14:00:00.123456+09:00' and some space
MAX_DURATION_MINUTES = 100_000  # about ten weeks: anything longer is a mistake in the data


def moment(value: Any) -> datetime:
    """An ISO 8601 time with a UTC offset (or a datetime that has one) as a datetime."""
    parsed: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str) and len(value) <= MAX_TIME_CHARS:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or parsed.utcoffset() is None:
        example = "2026-12-03T14:00:00+09:00"
        raise ValueError(f"{value!r:.60} is not an ISO 8601 time with a UTC offset, e.g. {example}")
    return parsed


def minutes(value: Any) -> int:
    """A whole number of minutes, given as a number or as digits."""
    number: int | None = None
    digits = value.strip() if isinstance(value, str) and len(value) <= MAX_TIME_CHARS else ""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif digits.isascii() and digits.isdigit():
        number = int(digits)
    if number is None or not 0 <= number <= MAX_DURATION_MINUTES:
        raise ValueError(f"{value!r:.60} is not a whole number of minutes from 0 to {MAX_DURATION_MINUTES}")
    return number


def _locale(context: JinjaContext) -> str:
    return str(context.get(LOCALE_KEY) or "ko")


def _zone(context: JinjaContext) -> ZoneInfo:
    try:
        return ZoneInfo(str(context.get(ZONE_KEY) or DEFAULT_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


@jinja2.pass_context
def when(context: JinjaContext, value: Any) -> str:
    """'12월 3일(수) 오후 2시' for an ISO time, in the centre's zone and the variant's language."""
    return format_datetime(moment(value), _locale(context), _zone(context))


@jinja2.pass_context
def date(context: JinjaContext, value: Any) -> str:
    """'12월 3일(수)' for an ISO time."""
    return format_date(moment(value), _locale(context), _zone(context))


@jinja2.pass_context
def time(context: JinjaContext, value: Any) -> str:
    """'오후 2시 30분' for an ISO time."""
    return format_time(moment(value), _locale(context), _zone(context))


@jinja2.pass_context
def compact_when(context: JinjaContext, value: Any) -> str:
    """'12/3(수) 14:00' for an ISO time: the date and time of a one-part SMS (``sms_short.txt``)."""
    return format_compact_datetime(moment(value), _locale(context), _zone(context))


@jinja2.pass_context
def duration(context: JinjaContext, value: Any) -> str:
    """'1시간 30분' for a number of minutes."""
    return format_duration_minutes(minutes(value), _locale(context))


DISPLAY_FILTERS: dict[str, Callable[..., str]] = {
    "when": when,
    "date": date,
    "time": time,
    "compact_when": compact_when,
    "duration": duration,
}
