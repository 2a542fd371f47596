"""Appointment statuses and the one table of transitions between them.

An appointment is booked until it is cancelled, and a cancelled one stays cancelled: the
booking system books a new one under a new id. Changes (a new time, place or counselor) and
the person's answers (confirm, ask for a change) keep the status; they are allowed only
while the appointment is open.
"""

from __future__ import annotations

from enum import StrEnum

from notifier.domain.lifecycle import Lifecycle


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

LIFECYCLE = Lifecycle("appointment", TRANSITIONS)
can_move = LIFECYCLE.can_move
sources_of = LIFECYCLE.sources_of
check_move = LIFECYCLE.check_move

OPEN = tuple(s for s in AppointmentStatus if s.is_open)
