"""The appointment rules, pure: plain data in, a decision out (no database, no context, no clock).

- ``still_true``: may a queued notice or reminder still go out, given the appointment now?
- ``check_changeable`` and ``notice_after_change``: what a change by the booking system does.
- ``reminder_plan``: the reminders of one appointment, none too close to the notice.
- ``page_closed``: the person's page is useless once the appointment has ended.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notifier.appointments.appointment import SHOWN_FIELDS, Appointment
from notifier.domain.message_status import Status
from notifier.domain.quiet_hours import QuietHours, in_quiet_hours
from notifier.domain.reminders import plan_reminders
from notifier.errors import Conflict

Verdict = tuple[Status, str]
MAX_REMINDER_GAP = timedelta(minutes=30)
TOO_CLOSE = "dropped_too_close"


@dataclass(frozen=True)
class QueuedNotice:
    """A queued message made for an appointment, as the claim sees it."""

    message_id: str
    appointment_id: str
    appointment_revision: int | None
    purpose: str  # confirmation | reminder | change | cancellation


@dataclass(frozen=True)
class LocalQuietHours:
    """The quiet hours of the appointment's centre, in the centre's time zone."""

    timezone: ZoneInfo
    hours: QuietHours


@dataclass(frozen=True)
class AppointmentNow:
    """What the claim needs of an appointment as it is now; ``quiet`` is None for an unknown centre."""

    revision: int
    starts_at: datetime
    quiet: LocalQuietHours | None = None


def verdict(notice: QueuedNotice, appointment: AppointmentNow | None, now: datetime) -> Verdict | None:
    """Why ``notice`` may not go out now (new status, detail), or None if it is still true."""
    if appointment is None:
        return Status.CANCELLED, "appointment no longer exists"
    if appointment.revision != notice.appointment_revision:
        return Status.CANCELLED, f"appointment changed (now revision {appointment.revision})"
    if now >= appointment.starts_at:
        return Status.EXPIRED, "the appointment has already started"
    quiet = appointment.quiet
    if (
        notice.purpose == "reminder"
        and quiet is not None
        and in_quiet_hours(now, quiet.timezone, quiet.hours)
    ):
        # A late retry or a backlog: too late to move it earlier, pointless in the morning.
        return Status.EXPIRED, "a reminder due now would arrive in quiet hours"
    return None


def still_true(
    notices: Iterable[QueuedNotice], appointments: Mapping[str, AppointmentNow], now: datetime
) -> dict[str, Verdict]:
    """The claim check: the verdict for each notice that may not go out, keyed by message id."""
    verdicts: dict[str, Verdict] = {}
    for notice in notices:
        found = verdict(notice, appointments.get(notice.appointment_id), now)
        if found is not None:
            verdicts[notice.message_id] = found
    return verdicts


def check_changeable(existing: Appointment, sent_version: int | None) -> None:
    """Raise ``Conflict`` unless the booking system may change ``existing`` with ``sent_version``."""
    if not existing.status.is_open:
        raise Conflict("this appointment was cancelled; book a new one with a new id")
    stored = existing.version
    if stored is not None and sent_version is None:
        raise Conflict("this appointment is versioned; send a newer version with every change")
    if sent_version is not None and stored is not None and sent_version <= stored:
        raise Conflict(f"version {sent_version} is not newer than the stored version {stored}")


def shows_the_same(existing: Appointment, changed: Appointment) -> bool:
    """Tell whether nothing the person is told about differs between the two."""
    return all(getattr(changed, name) == getattr(existing, name) for name in SHOWN_FIELDS)


def answer_after_change(existing: Appointment, changed: Appointment) -> Appointment:
    """Keep the person's answer only while it still answers the same time.

    A confirmation or change request was given for the old start; after a move the page must
    not show it as given for the new one, so the person is asked again.
    """
    if changed.starts_at == existing.starts_at:
        return changed
    return replace(changed, attendance=None, attendance_at=None)


def notice_after_change(
    existing: Appointment, changed: Appointment, cancelled: Collection[str]
) -> str | None:
    """The notice a visible change sends, given the purposes of the messages it cancelled."""
    if "confirmation" in cancelled:  # the person never heard of the old booking: confirm the new one
        return "confirmation"
    if existing.starts_at != changed.starts_at or existing.location != changed.location:
        return "change"
    return None


def min_gap(offsets: tuple[timedelta, ...]) -> timedelta:
    """Reminders closer than this to one another (or to the notice) are pointless."""
    return min([MAX_REMINDER_GAP, *(o / 2 for o in offsets)])


@dataclass(frozen=True)
class PlannedEntry:
    """What happens to one reminder offset of an appointment; ``send_at`` is None when dropped."""

    offset: timedelta
    outcome: str  # a ReminderOutcome, or ``dropped_too_close``
    send_at: datetime | None
    note: str

    def stored(self) -> dict[str, Any]:
        """The JSON the appointment keeps (and shows) for this entry."""
        return {
            "offset_seconds": int(self.offset.total_seconds()),
            "outcome": self.outcome,
            "send_at": self.send_at.isoformat() if self.send_at else None,
            "note": self.note,
        }


def reminder_plan(
    starts_at: datetime,
    offsets: tuple[timedelta, ...],
    tz: ZoneInfo,
    quiet: QuietHours,
    now: datetime,
    notice_at: datetime | None = None,
) -> list[PlannedEntry]:
    """Plan the reminders; one that would arrive right after the notice is dropped.

    The notice goes at ``notice_at`` (default ``now``): later when quiet hours hold it back, and
    a reminder planned just after that time would follow it within minutes.
    """
    gap = min_gap(offsets)
    sent_at = notice_at or now
    plan = []
    for planned in plan_reminders(starts_at, offsets, now, tz, quiet, gap):
        outcome, note, send_at = str(planned.outcome), planned.note, planned.send_at
        if send_at is not None and send_at - sent_at < gap:
            outcome, note, send_at = TOO_CLOSE, "it would arrive right after the notice", None
        plan.append(PlannedEntry(planned.offset, outcome, send_at, note))
    return plan


def page_closed(appointment: Appointment, now: datetime) -> bool:
    """Tell whether the person's page has closed: the appointment has ended."""
    return now >= appointment.ends_at
