"""Helpers for console tests (server-side and browser): staff accounts, CSRF tokens, signing in."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from notifier.context import Context
from notifier.staff import signin
from notifier.staff.accounts import StaffAccount

PASSWORD = "correct horse battery"


def make_staff(
    ctx: Context,
    email: str,
    role: str = "staff",
    centers: Iterable[str] = ("seosan",),
    name: str = "김직원",
    password: str = PASSWORD,
) -> StaffAccount:
    """An account with a password, made as the CLI and a reset link make it."""
    account = signin.create_account(ctx, email, name, role, list(centers))
    link = signin.issue_reset_link(ctx, email)
    signin.set_password(ctx, link.rsplit("/", 1)[1], password, "127.0.0.1")
    return account


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def form_token(client: FlaskClient, path: str = "/console/login") -> str:
    """A CSRF token from a console page (the login page needs no account)."""
    return csrf_of(client.get(path).get_data(as_text=True))


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    return client.post(
        "/console/login", data={"email": email, "password": password, "csrf_token": form_token(client)}
    )


def post_form(
    client: FlaskClient, path: str, data: dict[str, str], token_from: str = "/console/"
) -> TestResponse:
    """Post a console form with a CSRF token taken from a page of the signed-in console."""
    return client.post(path, data={**data, "csrf_token": form_token(client, token_from)})
