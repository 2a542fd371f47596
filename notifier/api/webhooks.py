"""/v1/webhooks: the key owner's webhook; each event needs the scope of what it reports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from notifier.api.auth import requires
from notifier.api.context import context
from notifier.api.problems import parse_json
from notifier.errors import Forbidden
from notifier.schemas import WebhookIn
from notifier.webhooks import service as webhooks

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")


@bp.put("")
@requires(None)  # each event needs its own scope, checked below
def put_webhook() -> tuple[dict[str, Any], int]:
    body, _ = parse_json(WebhookIn)
    for event in body.events:
        scope = webhooks.scope_for(event)
        if scope not in g.scopes and "admin" not in g.scopes:
            raise Forbidden(f"subscribing to '{event}' needs a key with the '{scope}' scope")
    status, result = webhooks.put_webhook(context(), g.owner, body.url, list(body.events))
    return result, status


@bp.get("")
@requires(None)
def get_webhook() -> dict[str, Any]:
    return webhooks.get_webhook(context(), g.owner)
