"""/v1/appointments (scope ``appointments``): book, change, read, list and cancel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from pydantic import ValidationError

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.openapi import Answers, doc, problems, scope
from notifier.api.problems import parse_json, validation_errors
from notifier.appointments import service as appointments
from notifier.appointments.notices import MAX_EXTERNAL_ID
from notifier.appointments.views import Appointment, AppointmentList
from notifier.errors import FieldError, ValidationFailed
from notifier.schemas import AppointmentIn, AppointmentQuery

bp = Blueprint("appointments", __name__, url_prefix="/v1")
SECURITY = scope("appointments")


@bp.put("/appointments/<external_id>")
@doc(
    json=AppointmentIn,
    resp=Answers(
        HTTP_201=(Appointment, "Booked"),
        HTTP_200=(Appointment, "Changed, or replayed"),
        **problems(400, 401, 403, 409, 413, 415, 422),
    ),
    security=SECURITY,
)
@requires("appointments")
def put(external_id: str) -> tuple[dict[str, Any], int]:
    """Book or change an appointment

    201 when created, 200 when changed. An identical replay changes nothing. A `version` older
    than or equal to the stored one is a 409 and changes nothing. A change cancels every
    pending message of the old time and schedules new ones.
    """
    if len(external_id) > MAX_EXTERNAL_ID:  # the messages' reference must hold it, after its prefix
        raise ValidationFailed(
            [FieldError("/external_id", f"longer than {MAX_EXTERNAL_ID} characters")],
            f"external_id is longer than {MAX_EXTERNAL_ID} characters",
        )
    body, raw = parse_json(AppointmentIn)
    status, result = appointments.put_appointment(context(), g.owner, external_id, body, raw)
    return result, status


@bp.get("/appointments/<external_id>")
@doc(resp=Answers(HTTP_200=(Appointment, "The appointment"), **problems(401, 403, 404)), security=SECURITY)
@requires("appointments")
def show(external_id: str) -> dict[str, Any]:
    """An appointment with its messages and reminder plan"""
    return appointments.get_appointment(context(), g.owner, external_id)


@bp.delete("/appointments/<external_id>")
@doc(resp=Answers(HTTP_200=(Appointment, "Cancelled"), **problems(401, 403, 404)), security=SECURITY)
@requires("appointments")
def cancel(external_id: str) -> dict[str, Any]:
    """Cancel the appointment

    Pending messages are cancelled and one cancellation notice goes out; repeating it answers
    the same and sends nothing.
    """
    return appointments.cancel_appointment(context(), g.owner, external_id)


@bp.get("/appointments")
@doc(
    query=AppointmentQuery,
    resp=Answers(HTTP_200=(AppointmentList, "Matching appointments"), **problems(401, 403, 422)),
    security=SECURITY,
)
@requires("appointments")
def index() -> dict[str, Any]:
    """Appointments by centre and time range"""
    try:
        query = AppointmentQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc)) from exc
    return appointments.list_appointments(
        context(), g.owner, query.center, query.from_, query.to, query.limit
    )
