"""Attendance rules, pure: whether an outcome may be recorded, report bands and small cells,
and which arm of a reminder-plan experiment an appointment belongs to.

- ``check_outcome``: may this outcome be recorded for the appointment as it is now?
  Attended and no-show only once the appointment has started; cancellations at any time;
  one outcome per appointment revision, replaced only by a later one (a newer ``version``
  when the outcomes are versioned, else a later ``recorded_at``, or a later revision).
- ``lead_time_band``: the documented bands of days between booking and start.
- ``shown_count``: a public count, ``"<5"`` for a cell of fewer than ``MIN_CELL`` appointments.
- ``assign_arm``: the arm of an experiment, from a hash of the appointment and the experiment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from notifier.errors import Conflict, FieldError, ValidationFailed


class Outcome(StrEnum):
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    LATE_CANCELLATION = "late_cancellation"
    RESCHEDULED_BY_PERSON = "rescheduled_by_person"


# The person called the slot off: known before the start, so it may be recorded before it.
CANCELLATIONS = frozenset({Outcome.LATE_CANCELLATION, Outcome.RESCHEDULED_BY_PERSON})
# A cell of a public report with fewer appointments than this shows no counts and no rate.
MIN_CELL = 5
SMALL_CELL = "<5"
# Days from booking to start: (label, first day, first day of the next band or None).
LEAD_TIME_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-1d", 0, 2),
    ("2-7d", 2, 8),
    ("8-14d", 8, 15),
    ("15-30d", 15, 31),
    ("31d+", 31, None),
)
ARM_BUCKETS = 10_000  # shares are resolved to 0.01 %


@dataclass(frozen=True)
class StoredOutcome:
    """The outcome an appointment holds now, for the revision it was recorded for."""

    outcome: Outcome
    revision: int
    recorded_at: datetime
    version: int | None
    request_hash: str


@dataclass(frozen=True)
class OutcomeRequest:
    """An outcome the booking system or staff send for the appointment's current revision."""

    outcome: Outcome
    recorded_at: datetime
    version: int | None
    revision: int | None  # the revision the sender saw, if it says


@dataclass(frozen=True)
class AppointmentAt:
    """What the outcome rules need of the appointment as it is now."""

    revision: int
    starts_at: datetime
    cancelled: bool


def check_outcome(
    appointment: AppointmentAt, stored: StoredOutcome | None, sent: OutcomeRequest, now: datetime
) -> None:
    """Raise ``ValidationFailed`` (422) or ``Conflict`` (409) unless ``sent`` may be recorded now."""
    if sent.recorded_at > now:
        raise ValidationFailed([FieldError("/recorded_at", "must not be in the future")])
    if sent.outcome not in CANCELLATIONS:
        if appointment.cancelled:
            raise ValidationFailed(
                [FieldError("/outcome", f"the appointment was cancelled; {sent.outcome} cannot be recorded")]
            )
        if now < appointment.starts_at:
            raise ValidationFailed(
                [FieldError("/outcome", f"{sent.outcome} can be recorded only after the appointment starts")]
            )
        if sent.recorded_at < appointment.starts_at:
            raise ValidationFailed([FieldError("/recorded_at", "must not be before the appointment starts")])
    if sent.revision is not None and sent.revision != appointment.revision:
        raise Conflict(
            f"the appointment is at revision {appointment.revision}, not {sent.revision}; "
            "read it again before recording its outcome"
        )
    if stored is None:
        return
    if stored.version is not None and sent.version is None:
        raise Conflict("this appointment's outcome is versioned; send a newer version with every change")
    if sent.version is not None and stored.version is not None:
        if sent.version <= stored.version:
            raise Conflict(f"version {sent.version} is not newer than the stored version {stored.version}")
        return
    if stored.revision == appointment.revision and sent.recorded_at <= stored.recorded_at:
        raise Conflict("an outcome recorded at the same time or later is already stored for this revision")


def lead_time_band(days: int) -> str:
    """The band of ``days`` between booking and start (a negative figure counts as 0)."""
    for label, first, after in LEAD_TIME_BANDS:
        if days < first:
            continue
        if after is None or days < after:
            return label
    return LEAD_TIME_BANDS[0][0]


def shown_count(count: int, appointments: int) -> int | str:
    """A count as a public report shows it: hidden in a cell of fewer than ``MIN_CELL`` appointments."""
    return SMALL_CELL if appointments < MIN_CELL else count


@dataclass(frozen=True)
class Arm:
    """One arm of an experiment: a named reminder plan (e.g. ``24h,2h``) and its share."""

    plan: str
    share: float


def assign_arm(appointment_id: str, experiment_id: str, arms: Sequence[Arm]) -> str:
    """The plan of the arm this appointment belongs to: the same answer every time it is asked."""
    if not arms:
        raise ValueError("an experiment has at least one arm")
    digest = hashlib.sha256(f"{experiment_id}:{appointment_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % ARM_BUCKETS
    total = sum(arm.share for arm in arms)
    edge = 0.0
    for arm in arms:
        edge += arm.share / total * ARM_BUCKETS
        if point < edge:
            return arm.plan
    return arms[-1].plan
