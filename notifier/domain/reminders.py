"""Plan the reminders for one appointment (KOREA.md section 4).

Each offset (e.g. 24h, 2h) gives a reminder at ``starts_at - offset``. Then, in order:

1. A reminder whose time is at or before ``now`` is not created (``dropped_past``): the
   booking confirmation already told the person, and a late reminder is noise.
2. One that falls in quiet hours moves earlier, to the last allowed minute before them
   (``moved_for_quiet_hours``).
3. A moved reminder is dropped (``dropped_quiet_hours``) if it would then be at or before
   ``now``, or less than ``min_gap`` from a reminder already kept. (It cannot land at or after
   the appointment: moving only goes earlier.)

Offsets are handled longest first, so when two reminders collide the earlier-planned one
(the longer offset) is kept. A reminder is never planned at or after ``starts_at``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from notifier.domain.quiet_hours import QuietHours, in_quiet_hours, last_allowed_before

DEFAULT_MIN_GAP = timedelta(minutes=30)

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_OFFSET = re.compile(r"\s*(\d+)\s*([a-z]?)\s*")


class ReminderOutcome(StrEnum):
    SCHEDULED = "scheduled"
    MOVED_FOR_QUIET_HOURS = "moved_for_quiet_hours"
    DROPPED_PAST = "dropped_past"
    DROPPED_QUIET_HOURS = "dropped_quiet_hours"


@dataclass(frozen=True)
class PlannedReminder:
    """What happens to one reminder offset; ``send_at`` (UTC) is None when dropped."""

    offset: timedelta
    send_at: datetime | None
    outcome: ReminderOutcome
    note: str

    @property
    def will_send(self) -> bool:
        return self.send_at is not None


def parse_offsets(spec: str) -> tuple[timedelta, ...]:
    """Parse '24h,2h' (units s, m, h, d) into distinct offsets, longest first.

    An empty or blank spec means no reminders.
    """
    if not spec.strip():
        return ()
    offsets: set[timedelta] = set()
    for item in spec.split(","):
        match = _OFFSET.fullmatch(item)
        if match is None or match.group(2) not in _UNITS:
            raise ValueError(
                f"reminder offset {item.strip()!r} in {spec!r}: expected a whole number and a "
                "unit s, m, h or d, e.g. '24h,2h'"
            )
        offset = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        if offset <= timedelta(0):
            raise ValueError(f"reminder offset {item.strip()!r} in {spec!r}: must be positive")
        offsets.add(offset)
    return tuple(sorted(offsets, reverse=True))


def format_offset(offset: timedelta) -> str:
    """Write an offset the way ``parse_offsets`` reads it, in the largest whole unit up to hours."""
    seconds = int(offset.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _require_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime; give it a time zone")


def _clock(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def plan_reminders(
    starts_at: datetime,
    offsets: Iterable[timedelta],
    now: datetime,
    tz: ZoneInfo,
    quiet: QuietHours,
    min_gap: timedelta = DEFAULT_MIN_GAP,
) -> list[PlannedReminder]:
    """Plan one reminder per distinct offset, longest offset first, applying quiet hours."""
    _require_aware("starts_at", starts_at)
    _require_aware("now", now)
    ordered = sorted(set(offsets), reverse=True)
    if any(offset <= timedelta(0) for offset in ordered):
        raise ValueError("reminder offsets must be positive")
    kept: list[tuple[timedelta, datetime]] = []
    plan: list[PlannedReminder] = []
    for offset in ordered:
        planned = _plan_one(starts_at, offset, now, tz, quiet, min_gap, kept)
        if planned.send_at is not None:
            kept.append((offset, planned.send_at))
        plan.append(planned)
    return plan


def _plan_one(
    starts_at: datetime,
    offset: timedelta,
    now: datetime,
    tz: ZoneInfo,
    quiet: QuietHours,
    min_gap: timedelta,
    kept: list[tuple[timedelta, datetime]],
) -> PlannedReminder:
    label = format_offset(offset)
    due = (starts_at - offset).astimezone(UTC)
    if due <= now:
        note = f"{label} reminder was due at {_clock(due, tz)}, which is not after now"
        return PlannedReminder(offset, None, ReminderOutcome.DROPPED_PAST, note)
    if not in_quiet_hours(due, tz, quiet):
        note = f"{label} before the appointment, at {_clock(due, tz)}"
        return PlannedReminder(offset, due, ReminderOutcome.SCHEDULED, note)

    moved = last_allowed_before(due, tz, quiet)
    why = f"{label} reminder at {_clock(due, tz)} falls in quiet hours"
    if moved <= now:
        note = f"{why}; the last allowed time before them, {_clock(moved, tz)}, has passed"
        return PlannedReminder(offset, None, ReminderOutcome.DROPPED_QUIET_HOURS, note)
    # Moving only goes earlier than ``due``, which is before ``starts_at``: no check needed.
    for other_offset, other_at in kept:
        if abs(moved - other_at) < min_gap:
            note = (
                f"{why}; moved to {_clock(moved, tz)} it would be within {format_offset(min_gap)}"
                f" of the {format_offset(other_offset)} reminder at {_clock(other_at, tz)}"
            )
            return PlannedReminder(offset, None, ReminderOutcome.DROPPED_QUIET_HOURS, note)
    note = f"{why}; moved to {_clock(moved, tz)}, before quiet hours"
    return PlannedReminder(offset, moved, ReminderOutcome.MOVED_FOR_QUIET_HOURS, note)


def plan_name(offsets: Iterable[timedelta]) -> str:
    """The name of a reminder plan, the way ``parse_offsets`` reads it: ``24h,2h``."""
    return ",".join(format_offset(o) for o in sorted(set(offsets), reverse=True))
