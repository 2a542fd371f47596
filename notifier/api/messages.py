"""POST /v1/messages, GET /v1/messages/{id}, GET /v1/messages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from pydantic import BaseModel, Field, ValidationError

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.openapi import Answers, doc, problems, scope
from notifier.api.problems import parse_json, validation_errors
from notifier.domain.message_status import Status
from notifier.errors import ValidationFailed
from notifier.messages import accept, views
from notifier.messages.views import Message, MessageList
from notifier.schemas import CURSOR_RULE, MessageIn, Query

bp = Blueprint("messages", __name__, url_prefix="/v1/messages")


class ListQuery(Query):
    status: Status | None = None
    reference: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=500, description=CURSOR_RULE)


class IdempotencyHeaders(BaseModel):
    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="a repeat with the same key and body returns the first answer and creates nothing; "
        "the same key with another body is refused (422)",
    )


@bp.post("")
@doc(
    json=MessageIn,
    headers=IdempotencyHeaders,
    resp=Answers(HTTP_202=(Message, "Accepted"), **problems(400, 401, 403, 413, 415, 422)),
    security=scope("send"),
)
@requires("send")
def create() -> tuple[dict[str, Any], int]:
    """Send one message

    Render a template and queue the message (or schedule it with `send_at`).
    A message due in its centre's quiet hours waits until they end (the answer's `send_at`
    says when) unless it is marked `urgent`.
    A template whose purpose is `announcement` is refused (422): announcements are sent as campaigns
    (`POST /v1/campaigns`), which check consent, opt-outs and quiet hours.
    With `Idempotency-Key`, a repeat returns the first answer and creates nothing.
    """
    body, raw = parse_json(MessageIn)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise ValidationFailed([], "Idempotency-Key must be 1 to 200 characters")
    status, response = accept.accept_message(context(), g.owner, body, raw, key)
    return response, status


@bp.get("/<message_id>")
@doc(resp=Answers(HTTP_200=(Message, "The message"), **problems(401, 403, 404)), security=scope("send"))
@requires("send")
def show(message_id: str) -> dict[str, Any]:
    """A message with its status history"""
    return views.get_message(context(), g.owner, message_id)


@bp.get("")
@doc(
    query=ListQuery,
    resp=Answers(HTTP_200=(MessageList, "One page"), **problems(401, 403, 422)),
    security=scope("send"),
)
@requires("send")
def index() -> dict[str, Any]:
    """List messages, newest first"""
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
