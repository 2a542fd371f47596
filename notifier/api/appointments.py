"""/v1/appointments (scope ``appointments``): book, change, read, list and cancel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from pydantic import ValidationError

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.problems import parse_json, validation_errors
from notifier.appointments import service as appointments
from notifier.errors import ValidationFailed
from notifier.schemas import AppointmentIn, AppointmentQuery

bp = Blueprint("appointments", __name__, url_prefix="/v1")


@bp.put("/appointments/<external_id>")
@requires("appointments")
def put(external_id: str) -> tuple[dict[str, Any], int]:
    if len(external_id) > 200:
        raise ValidationFailed([], "external_id is longer than 200 characters")
    body, raw = parse_json(AppointmentIn)
    status, result = appointments.put_appointment(context(), g.owner, external_id, body, raw)
    return result, status


@bp.get("/appointments/<external_id>")
@requires("appointments")
def show(external_id: str) -> dict[str, Any]:
    return appointments.get_appointment(context(), g.owner, external_id)


@bp.delete("/appointments/<external_id>")
@requires("appointments")
def cancel(external_id: str) -> dict[str, Any]:
    return appointments.cancel_appointment(context(), g.owner, external_id)


@bp.get("/appointments")
@requires("appointments")
def index() -> dict[str, Any]:
    try:
        query = AppointmentQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc)) from exc
    return appointments.list_appointments(
        context(), g.owner, query.center, query.from_, query.to, query.limit
    )
