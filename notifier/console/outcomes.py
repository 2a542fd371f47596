"""Marking an appointment's outcome from the console (attended, no-show, ...).

``POST /console/appointments/<id>/outcome`` runs the same use case as the API
(``attendance.outcomes.record_outcome``), so the same rules hold: attended and no-show only
after the start, one outcome per revision replaced only by a later one; a refusal is a problem
page in the person's language (422 or 409) and changes nothing. Another centre's appointment is
a 404. Each recorded outcome is in the audit log.

The form is the macro ``outcome_form`` in ``console/outcome_form.html``; any page that shows an
appointment imports it. ``GET`` on the same path shows the form on its own.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, request

from notifier.api.context import context
from notifier.appointments import repository
from notifier.appointments.appointment import Appointment
from notifier.attendance import outcomes
from notifier.console.attendance import local_moment
from notifier.console.i18n import said, word
from notifier.console.pages import FormProblem, not_found, page
from notifier.console.session import audit, current_staff, login_required
from notifier.domain.attendance import Outcome
from notifier.errors import Conflict, ValidationFailed
from notifier.schemas import OutcomeIn
from notifier.staff.scope import require_center

bp = Blueprint("outcomes", __name__)
# The use case's reasons (for the API) as the console says them: (the API's words, Korean, English).
REASONS = (
    (
        "in the future",
        "발생 시각은 지금보다 뒤일 수 없습니다.",
        "The time it happened cannot be in the future.",
    ),
    (
        "was cancelled",
        "취소된 예약에는 참석이나 불참을 기록할 수 없습니다.",
        "A cancelled appointment cannot be marked attended or no-show.",
    ),
    (
        "only after the appointment starts",
        "참석과 불참은 예약 시작 시각이 지난 뒤에만 기록할 수 있습니다.",
        "Attended and no-show can be recorded only after the appointment starts.",
    ),
    (
        "before the appointment starts",
        "발생 시각은 예약 시작 시각보다 앞설 수 없습니다.",
        "The time it happened cannot be before the appointment starts.",
    ),
)


def _appointment(appointment_id: str) -> Appointment:
    """The appointment, if the signed-in account's centres include its centre; else 404."""
    with context().engine.connect() as conn:
        found = repository.get(conn, appointment_id[:36])
    if found is None:
        raise not_found()
    require_center(current_staff(), found.center_code)
    return found


def _reasons(exc: ValidationFailed) -> list[tuple[str, str]]:
    """The use case's refusal as (field label, reason) in the page's language."""
    labels = {"/outcome": word("attendance_outcome"), "/recorded_at": word("recorded_at")}
    details = []
    for error in exc.errors:
        reason = next(
            (said(ko, en) for api, ko, en in REASONS if api in error.detail),
            said("입력한 값을 받을 수 없습니다.", "This value cannot be accepted."),
        )
        details.append((labels.get(error.pointer, word("attendance_outcome")), reason))
    return details


def outcome_choices() -> list[tuple[str, str]]:
    return [(o.value, word(f"outcome_{o.value}")) for o in Outcome]


@bp.get("/appointments/<appointment_id>/outcome")
@login_required
def form(appointment_id: str) -> Response:
    appointment = _appointment(appointment_id)
    return page(
        "console/outcome.html",
        appointment=appointment,
        recorded=request.args.get("recorded") == "1",
        outcome_choices=outcome_choices(),
    )


@bp.post("/appointments/<appointment_id>/outcome")
@login_required
def record(appointment_id: str) -> Response:
    appointment = _appointment(appointment_id)
    problems: list[tuple[str, str]] = []
    chosen = request.form.get("outcome", "")
    if chosen not in {o.value for o in Outcome}:
        problems.append((word("attendance_outcome"), said("참석 결과를 고르세요.", "Choose an outcome.")))
    recorded_at = local_moment(request.form.get("recorded_at", ""), word("recorded_at"), problems)
    if problems:
        raise FormProblem(422, word("outcome_refused"), problems)
    raw: dict[str, Any] = {"outcome": chosen}
    if recorded_at is not None:
        raw["recorded_at"] = recorded_at.isoformat()
    body = OutcomeIn.model_validate({"outcome": chosen, "recorded_at": recorded_at})
    ctx = context()
    try:
        outcomes.record_outcome(ctx, appointment.owner, appointment.external_id, body, raw)
    except ValidationFailed as exc:
        raise FormProblem(422, word("outcome_refused"), _reasons(exc)) from exc
    except Conflict as exc:
        later = said(
            "이 예약에는 같은 시각이나 더 늦은 시각의 결과가 이미 기록되어 있습니다. "
            "페이지를 새로 열어 확인하세요.",
            "An outcome at the same time or later is already recorded for this appointment. "
            "Open the page again to see it.",
        )
        raise FormProblem(409, later) from exc
    with ctx.engine.begin() as conn:
        audit(
            conn, "outcome_recorded", "appointment", appointment.id,
            center_code=appointment.center_code, detail=chosen,
        )  # fmt: skip
    back = request.form.get("next", "")
    if not (back.startswith("/console/") and "//" not in back and "\\" not in back):
        back = f"/console/appointments/{appointment.id}/outcome?recorded=1"
    return redirect(back, code=303)  # type: ignore[return-value]
