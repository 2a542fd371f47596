"""/v1/webhooks: the key owner's webhook; each event needs the scope of what it reports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.openapi import Answers, doc, problems, scope
from notifier.api.problems import parse_json
from notifier.errors import Forbidden
from notifier.schemas import WebhookIn
from notifier.webhooks import service as webhooks
from notifier.webhooks.service import Webhook

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")


@bp.put("")
@doc(
    json=WebhookIn,
    resp=Answers(
        HTTP_201=(Webhook, "Created; the secret is shown now only"),
        HTTP_200=(Webhook, "Updated"),
        **problems(400, 401, 403, 415, 422),
    ),
    security=scope(None),
)
@requires(None)  # each event needs its own scope, checked below
def put_webhook() -> tuple[dict[str, Any], int]:
    """Register the webhook of this key's owner

    Events are POSTed as JSON with `Notifier-Signature: t=<unix>,v1=<hex>`, the hex being
    HMAC-SHA256 with the secret over `t.body`. Retried with backoff on timeouts, 429 and 5xx.
    Each event needs a key with its scope: `message.status_changed` `send`, the appointment
    events `appointments`, `recipient.opted_out` `campaigns`.
    """
    body, _ = parse_json(WebhookIn)
    for event in body.events:
        event_scope = webhooks.scope_for(event)
        if event_scope not in g.scopes and "admin" not in g.scopes:
            raise Forbidden(f"subscribing to '{event}' needs a key with the '{event_scope}' scope")
    status, result = webhooks.put_webhook(context(), g.owner, body.url, list(body.events))
    return result, status


@bp.get("")
@doc(resp=Answers(HTTP_200=(Webhook, "The webhook"), **problems(401, 404)), security=scope(None))
@requires(None)
def get_webhook() -> dict[str, Any]:
    """The webhook and its latest deliveries with their attempts"""
    return webhooks.get_webhook(context(), g.owner)
