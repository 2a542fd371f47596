"""The person's page: find the appointment behind a link, and record their answer.

The answer (confirm, or ask for a change) is stored on the appointment and reported to the
booking system as a signed webhook, in one transaction. Only an open (booked) appointment
can be answered.
"""

from __future__ import annotations

from notifier.appointments import repository
from notifier.appointments.appointment import Appointment
from notifier.appointments.notices import appointment_id_from_token
from notifier.context import Context
from notifier.errors import Conflict
from notifier.webhooks.service import emit

# answer in the page's URL -> (what the appointment records, the webhook event)
ANSWERS = {
    "confirm": ("confirmed", "appointment.confirmed"),
    "change": ("change_requested", "appointment.change_requested"),
}


def appointment_for(ctx: Context, token: str) -> Appointment | None:
    """The appointment a page token stands for, or None for a forged token or a deleted appointment."""
    appointment_id = appointment_id_from_token(ctx, token)
    if appointment_id is None:
        return None
    with ctx.engine.connect() as conn:
        return repository.get(conn, appointment_id)


def record_answer(ctx: Context, appointment: Appointment, answer: str) -> str:
    """Record the person's answer and queue its webhook; return the attendance stored.

    Raise ``Conflict`` if the appointment is no longer open, ``KeyError`` for an unknown answer.
    """
    attendance, event = ANSWERS[answer]
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        if not repository.record_attendance(conn, appointment.id, attendance, now):
            raise Conflict("this appointment is no longer booked; it cannot be answered")
        data = {
            "appointment_id": appointment.id,
            "external_id": appointment.external_id,
            "starts_at": appointment.starts_at.isoformat(),
            "answered_at": now.isoformat(),
        }
        emit(conn, appointment.owner, event, data, now)
    return attendance
