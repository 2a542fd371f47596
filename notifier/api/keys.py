"""/v1/keys: list, create (the key shown once) and revoke API keys; scope ``admin``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from notifier.api.auth import acting_key, requires
from notifier.api.context import context
from notifier.api.openapi import Answers, doc, problems, scope
from notifier.api.problems import parse_json
from notifier.keys import service as keys
from notifier.keys.service import ApiKeyList, NewApiKey
from notifier.schemas import ApiKeyIn

bp = Blueprint("keys", __name__, url_prefix="/v1/keys")
SECURITY = scope("admin")


@bp.get("")
@doc(
    resp=Answers(HTTP_200=(ApiKeyList, "Every key, revoked ones too"), **problems(401, 403)),
    security=SECURITY,
)
@requires("admin")
def index() -> dict[str, Any]:
    """List API keys (never the keys themselves), oldest first"""
    return keys.list_keys(context())


@bp.post("")
@doc(
    json=ApiKeyIn,
    resp=Answers(
        HTTP_201=(NewApiKey, "Created; `key` is shown now only"), **problems(400, 401, 403, 415, 422)
    ),
    security=SECURITY,
)
@requires("admin")
def create() -> tuple[dict[str, Any], int]:
    """Create an API key

    The answer's `key` is the only time the key is shown; only its SHA-256 is stored.
    """
    body, _ = parse_json(ApiKeyIn)
    created = keys.create_key(
        context(), body.name, list(body.scopes), body.owner, acting_key(), request.remote_addr
    )
    return created, 201


@bp.delete("/<key_id>")
@doc(resp=Answers(HTTP_204=(None, "Revoked"), **problems(401, 403, 404)), security=SECURITY)
@requires("admin")
def revoke(key_id: str) -> Response:
    """Revoke an API key

    It stops working at once in this process and within `NOTIFIER_LOOKUP_TTL_SECONDS` in the
    others. An unknown or already revoked key is a 404.
    """
    keys.revoke_key(context(), key_id, acting_key(), request.remote_addr)
    return Response(status=204)
