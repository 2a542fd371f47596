"""Who is signed in to the console, and the helpers every console page uses.

- ``login_required``: the view runs only for a signed-in account (``current_staff()``);
  otherwise the browser goes to the sign-in page.
- ``client_address()``: where the request came from, for the lock-out and the audit log.
- ``audit(...)``: write an audit entry for the signed-in account, in the caller's transaction.

The session cookie holds a random token (``HttpOnly``, ``SameSite=Lax``, ``Secure`` when
``NOTIFIER_SECURE_COOKIES``); the database holds its hash (``notifier.staff.sessions``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, g, redirect, request, url_for
from sqlalchemy import Connection

from notifier.api.context import context
from notifier.staff import audit as audit_log
from notifier.staff import sessions
from notifier.staff.accounts import StaffAccount
from notifier.staff.audit import Actor

F = TypeVar("F", bound=Callable[..., Any])
SESSION_COOKIE = "notifier_console"
COOKIE_PATH = "/console"


def client_address() -> str:
    """The address the request came from (run behind a proxy that sets it: see the README)."""
    return (request.remote_addr or "unknown")[:64]


def session_token() -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def current_staff() -> StaffAccount:
    """The signed-in account of this request (only inside a ``login_required`` view)."""
    account: StaffAccount = g.staff
    return account


def signed_in() -> StaffAccount | None:
    """The account this request's session cookie belongs to, if it is still signed in."""
    token = session_token()
    if token is None:
        return None
    ctx = context()
    with ctx.engine.begin() as conn:
        return sessions.resume(conn, token, ctx.clock(), ctx.settings.console_idle_timeout)


def login_required(view: F) -> F:
    """Let the view run only for a signed-in account; send anyone else to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        account = signed_in()
        if account is None:
            expired = session_token() is not None
            target = url_for("console.auth.login", expired=1 if expired else None)
            response: Response = redirect(target, code=303)  # type: ignore[assignment]
            if expired:
                forget_session(response)
            return response
        g.staff = account
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def remember_session(response: Response, token: str) -> None:
    """Give the browser its session cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=context().settings.secure_cookies,
    )


def forget_session(response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=context().settings.secure_cookies,
    )


def acting() -> Actor:
    """The signed-in account and its address, for a use case that writes its own audit entry."""
    return Actor(current_staff(), client_address())


def audit(
    conn: Connection,
    action: str,
    object_type: str,
    object_id: str | None,
    *,
    center_code: str | None = None,
    detail: str | None = None,
) -> None:
    """Record a change made by the signed-in account, in the transaction that makes it."""
    audit_log.record(
        conn,
        current_staff(),
        action,
        object_type,
        object_id,
        context().clock(),
        center_code=center_code,
        address=client_address(),
        detail=detail,
    )
