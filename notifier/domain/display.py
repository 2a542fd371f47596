"""Show dates, times and durations to a recipient in Korean (default) or English.

Korean follows everyday usage on notices: ``12월 3일(수) 오후 2시 30분``. Noon is ``오후 12시``
and midnight ``오전 12시`` (the 12-hour convention phones and carriers use), not ``낮 12시``
or ``밤 12시``, so every time reads the same way. Any locale that is not English falls back
to Korean, the language of every recipient we know of.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

_KO_WEEKDAYS = ("월", "화", "수", "목", "금", "토", "일")
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _is_english(locale: str) -> bool:
    # 'en', 'en-US', 'en_GB' all count; the region does not change these formats.
    return locale.replace("_", "-").lower().split("-")[0] == "en"


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()}: give it a time zone (store UTC)")
    return dt.astimezone(tz)


def _hour12(hour: int) -> int:
    return hour % 12 or 12


def format_date(dt: datetime, locale: str, tz: ZoneInfo) -> str:
    """Format the date of ``dt`` in ``tz``: '12월 3일(수)' or 'Wed 3 Dec'."""
    local = _local(dt, tz)
    if _is_english(locale):
        return f"{_EN_WEEKDAYS[local.weekday()]} {local.day} {_EN_MONTHS[local.month - 1]}"
    return f"{local.month}월 {local.day}일({_KO_WEEKDAYS[local.weekday()]})"


def format_time(dt: datetime, locale: str, tz: ZoneInfo) -> str:
    """Format the time of ``dt`` in ``tz``: '오후 2시 30분' or '2:30 PM'."""
    local = _local(dt, tz)
    hour = _hour12(local.hour)
    if _is_english(locale):
        return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    text = f"{'오전' if local.hour < 12 else '오후'} {hour}시"
    return f"{text} {local.minute}분" if local.minute else text


def format_datetime(dt: datetime, locale: str, tz: ZoneInfo) -> str:
    """Format ``dt`` in ``tz``: '12월 3일(수) 오후 2시' or 'Wed 3 Dec, 2:00 PM'."""
    separator = ", " if _is_english(locale) else " "
    return format_date(dt, locale, tz) + separator + format_time(dt, locale, tz)


def format_compact_datetime(dt: datetime, locale: str, tz: ZoneInfo) -> str:
    """Format ``dt`` in ``tz`` as short as a one-part SMS needs: '12/3(수) 14:00' or 'Wed 12/3 14:00'."""
    local = _local(dt, tz)
    clock = f"{local.hour}:{local.minute:02d}"
    if _is_english(locale):
        return f"{_EN_WEEKDAYS[local.weekday()]} {local.month}/{local.day} {clock}"
    return f"{local.month}/{local.day}({_KO_WEEKDAYS[local.weekday()]}) {clock}"


def format_duration_minutes(minutes: int, locale: str) -> str:
    """Format a duration: '1시간 30분' or '1 hour 30 minutes'."""
    if minutes < 0:
        raise ValueError(f"duration cannot be negative: {minutes} minutes")
    hours, rest = divmod(minutes, 60)
    if _is_english(locale):
        parts = [_plural(hours, "hour")] if hours else []
        if rest or not hours:
            parts.append(_plural(rest, "minute"))
        return " ".join(parts)
    parts = [f"{hours}시간"] if hours else []
    if rest or not hours:
        parts.append(f"{rest}분")
    return " ".join(parts)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
