"""Bearer API keys with scopes. A missing or unknown key is 401; a missing scope is 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from notifier.api.context import context
from notifier.errors import Forbidden, Unauthorized
from notifier.storage import keys

F = TypeVar("F", bound=Callable[..., Any])


def requires(scope: str | None) -> Callable[[F], F]:
    """Let the view run only for a live key holding ``scope`` (or ``admin``); None: any key."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
            with context().engine.connect() as conn:
                row = keys.find(conn, token.strip())
            if row is None:
                raise Unauthorized("unknown or revoked API key")
            if scope is not None and scope not in row["scopes"] and "admin" not in row["scopes"]:
                raise Forbidden(f"this key lacks the '{scope}' scope")
            g.owner = row["owner"]
            g.key_name = row["name"]
            g.scopes = frozenset(row["scopes"])
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
