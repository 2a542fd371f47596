"""Record what happened at an appointment: attended, no-show, late cancellation, rescheduled.

One outcome per appointment revision, replaced only by a later one; an identical replay
answers the same and changes nothing (the appointment's own rules). The rules are pure
(``notifier.domain.attendance.check_outcome``); here the row is locked, the rules applied, the
outcome written and its ``appointment.outcome_recorded`` webhook queued, in one transaction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from notifier.appointments import repository
from notifier.appointments.appointment import Appointment
from notifier.appointments.views import view
from notifier.context import Context
from notifier.domain.appointment_status import AppointmentStatus
from notifier.domain.attendance import AppointmentAt, Outcome, OutcomeRequest, StoredOutcome, check_outcome
from notifier.errors import NotFound
from notifier.messages.accept import request_hash
from notifier.schemas import OutcomeIn
from notifier.webhooks.service import emit

EVENT = "appointment.outcome_recorded"


def stored_outcome(appointment: Appointment) -> StoredOutcome | None:
    """The outcome the appointment holds, as the rules read it."""
    if (
        appointment.outcome is None
        or appointment.outcome_revision is None
        or appointment.outcome_recorded_at is None
    ):
        return None
    return StoredOutcome(
        outcome=Outcome(appointment.outcome),
        revision=appointment.outcome_revision,
        recorded_at=appointment.outcome_recorded_at,
        version=appointment.outcome_version,
        request_hash=appointment.outcome_hash or "",
    )


def record_outcome(ctx: Context, owner: str, external_id: str, body: OutcomeIn, raw: Any) -> dict[str, Any]:
    """Record the outcome of the appointment's current revision; return the appointment."""
    digest = request_hash(raw)
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        existing = repository.lock(conn, owner, external_id)
        if existing is None:
            raise NotFound(f"no appointment {external_id!r}")
        stored = stored_outcome(existing)
        if stored is not None and stored.request_hash == digest and stored.revision == existing.revision:
            return view(ctx, conn, repository.row(conn, existing.id))  # an identical replay
        sent = OutcomeRequest(
            outcome=Outcome(body.outcome),
            recorded_at=body.recorded_at or now,
            version=body.version,
            revision=body.revision,
        )
        at = AppointmentAt(
            revision=existing.revision,
            starts_at=existing.starts_at,
            cancelled=existing.status == AppointmentStatus.CANCELLED,
        )
        check_outcome(at, stored, sent, now)
        recorded = replace(
            existing,
            outcome=sent.outcome.value,
            outcome_revision=existing.revision,
            outcome_recorded_at=sent.recorded_at,
            outcome_version=sent.version if sent.version is not None else existing.outcome_version,
            outcome_hash=digest,
            updated_at=now,
        )
        repository.save_outcome(conn, recorded)
        data = {
            "appointment_id": existing.id,
            "external_id": existing.external_id,
            "revision": existing.revision,
            "starts_at": existing.starts_at.isoformat(),
            "outcome": sent.outcome.value,
            "recorded_at": sent.recorded_at.isoformat(),
            "replaced": stored.outcome.value if stored is not None else None,
        }
        emit(conn, owner, EVENT, data, now)
        return view(ctx, conn, repository.row(conn, existing.id))
