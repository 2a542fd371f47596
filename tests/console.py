"""Helpers for console tests (server-side and browser): staff accounts, CSRF tokens, signing in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

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


class _ProblemList(HTMLParser):
    """The items of a problem page's list (in ``<div class="problem">``): each one's label (in
    bold) and what it says is wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str]] = []
        self._divs = 0  # open divs since the problem div began (0: outside it)
        self._label: list[str] | None = None
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div" and (self._divs or "problem" in (dict(attrs).get("class") or "").split()):
            self._divs += 1
        elif self._divs and tag == "li":
            self._label, self._text = [], []
        elif self._text is not None and tag == "strong":
            self._label, self._text = [], None

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._divs:
            self._divs -= 1
        elif self._label is not None and tag == "strong":
            self._text = []
        elif self._label is not None and self._text is not None and tag == "li":
            text = "".join(self._text).strip().removeprefix(":").strip()
            self.items.append(("".join(self._label).strip(), text))
            self._label = self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)
        elif self._label is not None:
            self._label.append(data)


def problems_of(html: str) -> list[tuple[str, str]]:
    """(field label, problem) for each field a refused form's page names, as a reader sees them."""
    found = _ProblemList()
    found.feed(html)
    return found.items


class _VisibleText(HTMLParser):
    """The text a reader sees: no attributes, scripts or ``<code>`` (keys shown as secondary)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """A page's visible text, its elements' texts joined by " ¦ " (option values and URLs left out)."""
    found = _VisibleText()
    found.feed(html)
    pieces = (" ".join(part.split()) for part in found.parts)
    return " ¦ ".join(piece for piece in pieces if piece)


def shows_code(text: str, code: str, prose: bool = False) -> bool:
    """Whether ``code`` stands as a word of ``visible_text`` (not inside an address or a longer
    word); with ``prose`` (English pages, whose words may be codes too) only where a code stands
    alone: an element's whole text, a part between " · ", or in brackets."""
    if prose and "_" not in code and " " not in code:
        alone = rf"(?:^|¦ |· |\()({re.escape(code)})(?=$| ¦| ·|\))"
        return re.search(alone, text) is not None
    return re.search(rf"(?<![\w@.\-]){re.escape(code)}(?![\w@\-]|\.\w)", text) is not None
