"""Bearer API keys with scopes. A missing or unknown key is 401; a missing scope is 403.

A key found live is reused for ``NOTIFIER_LOOKUP_TTL_SECONDS`` by this process (keyed by its
hash), so a revocation takes effect within that time; an unknown key is looked up every time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from notifier.api.context import context
from notifier.context import Context
from notifier.errors import Forbidden, Unauthorized
from notifier.keys import repository as keys
from notifier.keys import service as key_service

F = TypeVar("F", bound=Callable[..., Any])


def live_key(ctx: Context, token: str) -> dict[str, Any] | None:
    """The live key row for a presented key, or None."""
    digest = keys.hash_key(token)

    def load() -> dict[str, Any] | None:
        with ctx.engine.connect() as conn:
            row = keys.find_by_hash(conn, digest)
        return dict(row) if row is not None else None

    return ctx.lookups.recent(("api_key", digest), load)


def requires(scope: str | None) -> Callable[[F], F]:
    """Let the view run only for a live key holding ``scope`` (or ``admin``); None: any key."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
            row = live_key(context(), token.strip())
            if row is None:
                raise Unauthorized("unknown or revoked API key")
            if scope is not None and scope not in row["scopes"] and "admin" not in row["scopes"]:
                raise Forbidden(f"this key lacks the '{scope}' scope")
            key_service.note_use(context(), row["id"])
            g.owner = row["owner"]
            g.key_name = row["name"]
            g.scopes = frozenset(row["scopes"])
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def acting_key() -> str:
    """The audit log's name for the API key of this request (after ``requires``)."""
    return f"api key {g.key_name}"
