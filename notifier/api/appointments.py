"""/v1/appointments (scope ``appointments``) and /v1/webhooks (each event needs its own scope)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from pydantic import ValidationError

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.problems import parse_json, validation_errors
from notifier.appointments import service as appointments
from notifier.errors import Forbidden, ValidationFailed
from notifier.schemas import AppointmentIn, AppointmentQuery, WebhookIn
from notifier.webhooks import service as webhooks

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


@bp.put("/webhooks")
@requires(None)  # each event needs its own scope, checked below
def put_webhook() -> tuple[dict[str, Any], int]:
    body, _ = parse_json(WebhookIn)
    for event in body.events:
        scope = webhooks.scope_for(event)
        if scope not in g.scopes and "admin" not in g.scopes:
            raise Forbidden(f"subscribing to '{event}' needs a key with the '{scope}' scope")
    status, result = webhooks.put_webhook(context(), g.owner, body.url, list(body.events))
    return result, status


@bp.get("/webhooks")
@requires(None)
def get_webhook() -> dict[str, Any]:
    return webhooks.get_webhook(context(), g.owner)
