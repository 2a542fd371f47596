"""Appointment statuses and the one table of transitions between them.

An appointment is booked until it is cancelled, and a cancelled one stays cancelled: the
booking system books a new one under a new id. Changes (a new time, place or counselor) and
the person's answers (confirm, ask for a change) keep the status; they are allowed only
while the appointment is open.
"""

from __future__ import annotations

from enum import StrEnum

from notifier.errors import InvalidTransition


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self]

    @property
    def is_open(self) -> bool:
        """Still changeable by the booking system and answerable by the person."""
        return not self.is_final


TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.BOOKED: frozenset({AppointmentStatus.CANCELLED}),
    AppointmentStatus.CANCELLED: frozenset(),
}

OPEN = tuple(s for s in AppointmentStatus if s.is_open)


def can_move(current: AppointmentStatus, new: AppointmentStatus) -> bool:
    """Tell whether an appointment in ``current`` may move to ``new``."""
    return new in TRANSITIONS[current]


def sources_of(new: AppointmentStatus) -> tuple[AppointmentStatus, ...]:
    """List the statuses from which ``new`` may be reached (for conditional updates)."""
    return tuple(s for s, targets in TRANSITIONS.items() if new in targets)


def check_move(current: AppointmentStatus, new: AppointmentStatus) -> None:
    """Raise ``InvalidTransition`` unless ``current -> new`` is allowed."""
    if not can_move(current, new):
        raise InvalidTransition(f"appointment {current.value} -> {new.value} is not allowed")
