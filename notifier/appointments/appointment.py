"""The appointment as the use cases see it: one plain dataclass, read and written by the repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from notifier.domain.appointment_status import AppointmentStatus

# What the person is told about; a change to anything else (e.g. the booking system's version)
# sends nothing.
SHOWN_FIELDS = ("kind", "starts_at", "duration_minutes", "counselor", "location", "recipient", "channels")


@dataclass(frozen=True)
class Appointment:
    """One appointment: the booking system's fields, our ``revision`` and its status.

    ``version`` is the booking system's own number (optional, only ever increases);
    ``revision`` is ours, one up on every accepted change, and every message made for the
    appointment remembers the revision it was made for.
    """

    id: str
    owner: str
    external_id: str
    version: int | None
    revision: int
    request_hash: str
    status: AppointmentStatus
    recipient: dict[str, Any]  # as the booking system sent it: name, phone, email, locale
    center_code: str
    kind: str
    starts_at: datetime
    duration_minutes: int
    counselor: str
    location: str
    channels: list[str]
    reminder_plan: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    attendance: str | None = None  # None | confirmed | change_requested
    attendance_at: datetime | None = None
    cancelled_at: datetime | None = None
    # The named reminder plan it follows (``24h,2h``) and, in an experiment, the experiment
    # and arm it was assigned to when booked; kept when it moves.
    reminder_plan_name: str | None = None
    experiment_id: str | None = None
    experiment_arm: str | None = None
    # What happened: the outcome of one revision (``notifier.domain.attendance``).
    outcome: str | None = None
    outcome_revision: int | None = None
    outcome_recorded_at: datetime | None = None
    outcome_version: int | None = None
    outcome_hash: str | None = None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def channels_key(self) -> str:
        """The channels as one report value: ``sms``, ``email`` or ``email+sms``."""
        return "+".join(sorted(self.channels))

    @property
    def lead_days(self) -> int:
        """Whole days between booking and start."""
        return max(0, (self.starts_at - self.created_at).days)

    @property
    def locale(self) -> str:
        return str(self.recipient.get("locale", "ko"))
