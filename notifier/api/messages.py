"""POST /v1/messages, GET /v1/messages/{id}, GET /v1/messages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from pydantic import Field, ValidationError

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.problems import parse_json, validation_errors
from notifier.domain.status import Status
from notifier.errors import ValidationFailed
from notifier.messages import accept, views
from notifier.schemas import MessageIn, Strict

bp = Blueprint("messages", __name__, url_prefix="/v1/messages")


class ListQuery(Strict):
    status: Status | None = None
    reference: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=500)


@bp.post("")
@requires("send")
def create() -> tuple[dict[str, Any], int]:
    body, raw = parse_json(MessageIn)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise ValidationFailed([], "Idempotency-Key must be 1 to 200 characters")
    status, response = accept.accept_message(context(), g.owner, body, raw, key)
    return response, status


@bp.get("/<message_id>")
@requires("send")
def show(message_id: str) -> dict[str, Any]:
    return views.get_message(context(), g.owner, message_id)


@bp.get("")
@requires("send")
def index() -> dict[str, Any]:
    try:
        query = ListQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc)) from exc
    return views.list_messages(
        context(),
        g.owner,
        status=query.status.value if query.status else None,
        reference=query.reference,
        limit=query.limit,
        cursor=query.cursor,
    )
