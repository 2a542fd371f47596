"""Decide whether a moment falls in a recipient's quiet hours, and when they begin and end.

Quiet hours are wall-clock times in the recipient's zone (default 21:00 to 08:00). They
may span midnight; the start is inside them, the end is not. Results are returned in UTC,
the form every time is stored in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Scheduling works to the minute, so the last allowed moment is one minute before the start.
_ONE_MINUTE = timedelta(minutes=1)
_RANGE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True)
class QuietHours:
    """A daily quiet period in local wall-clock time; ``start == end`` means none."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local wall-clock times; give them no time zone")

    @classmethod
    def parse(cls, spec: str) -> QuietHours:
        """Parse 'HH:MM-HH:MM', e.g. '21:00-08:00'."""
        match = _RANGE.fullmatch(spec)
        if match is None:
            raise ValueError(f"quiet hours must look like '21:00-08:00', got {spec!r}")
        sh, sm, eh, em = (int(g) for g in match.groups())
        try:
            return cls(time(sh, sm), time(eh, em))
        except ValueError as exc:
            raise ValueError(f"quiet hours {spec!r}: {exc}") from exc

    @property
    def is_empty(self) -> bool:
        return self.start == self.end

    @property
    def spans_midnight(self) -> bool:
        return self.start > self.end


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give it a time zone")


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def in_quiet_hours(moment: datetime, tz: ZoneInfo, quiet: QuietHours) -> bool:
    """Tell whether ``moment`` falls in ``quiet`` hours, judged in local time in ``tz``."""
    _require_aware(moment)
    if quiet.is_empty:
        return False
    clock = moment.astimezone(tz).time().replace(tzinfo=None)
    if quiet.spans_midnight:
        return clock >= quiet.start or clock < quiet.end
    return quiet.start <= clock < quiet.end


def _period_start_day(moment: datetime, tz: ZoneInfo, quiet: QuietHours) -> date:
    """Return the local day on which the quiet period containing ``moment`` began."""
    local = moment.astimezone(tz)
    # Before the end of a period that spans midnight: it began the evening before.
    if quiet.spans_midnight and local.time().replace(tzinfo=None) < quiet.end:
        return local.date() - timedelta(days=1)
    return local.date()


def last_allowed_before(moment: datetime, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """Return the last allowed minute before the quiet period holding ``moment``, in UTC.

    A moment outside quiet hours is allowed itself and is returned unchanged (in UTC).
    """
    if not in_quiet_hours(moment, tz, quiet):
        return moment.astimezone(UTC)
    return _at(_period_start_day(moment, tz, quiet), quiet.start, tz) - _ONE_MINUTE


def next_allowed_at(moment: datetime, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """Return when the quiet period holding ``moment`` ends, in UTC; else ``moment`` itself."""
    if not in_quiet_hours(moment, tz, quiet):
        return moment.astimezone(UTC)
    start_day = _period_start_day(moment, tz, quiet)
    end_day = start_day + timedelta(days=1) if quiet.spans_midnight else start_day
    return _at(end_day, quiet.end, tz)
