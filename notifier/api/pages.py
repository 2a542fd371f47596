"""HTML pages people open from a message (``/a/...``, ``/s/...``, ``/u/...``), and the page a bad link gets.

A person who follows a link never reads JSON: a link that is unknown, altered, expired or no
longer answerable gets a small page in their language saying what happened and whom to call.
Their language is the one the link was made for when it is known, else the browser's.

The token in these links is the credential, so every answer under their paths (pages,
redirects, error pages, plain text, and what the router itself answers, such as a 405 to a GET
of an answer's URL) goes through ``keep_private`` (``register``): not stored by caches, not
sent on in a Referer header, and never shown inside another site's frame (where its buttons
could be clicked by someone else's page). The console's pages use the same function.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from notifier.api.openapi import text
from notifier.api.problems import add_routing_page
from notifier.centers.service import Center
from notifier.domain.phones import format_phone_kr

HTML = text("text/html")
# Why a link shows no page; link_problem.html words each in Korean and English.
UNKNOWN = "unknown"  # forged, altered, damaged, or its appointment is gone
EXPIRED = "expired"  # the appointment has ended
CANCELLED = "cancelled"  # the appointment was cancelled and cannot be answered
CLOSED = "closed"  # the appointment is no longer open to answers
STALE_FORM = "stale_form"  # the form came without a valid CSRF token (e.g. cookies cleared)
BUTTON_ADDRESS = "button_address"  # a button's address opened as a page (a 405 from the router)
REASONS = (UNKNOWN, EXPIRED, CANCELLED, CLOSED, STALE_FORM, BUTTON_ADDRESS)
LANGUAGES = ("ko", "en")
PERSON_PATHS = ("/a/", "/s/", "/u/")  # api.recipient_page and api.unsubscribe
# A person's page runs no script and loads nothing; its style is inline (templates/_page.html).
PERSON_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def keep_private(
    response: Response, referrer: str = "no-referrer", policy: str = PERSON_PAGE_POLICY
) -> Response:
    """Keep an answer that carries a credential out of caches, of Referer headers and of frames."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = referrer
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = policy
    return response


def register(app: Flask) -> None:
    """Keep every answer under a person's link private, whatever made it (a page, a redirect, an
    error), and let the router's 404 and 405 there be pages too."""

    @app.after_request
    def _private(response: Response) -> Response:
        return keep_private(response) if request.path.startswith(PERSON_PATHS) else response

    for prefix in PERSON_PATHS:
        add_routing_page(app, prefix.rstrip("/"), routing_problem)


def language(locale: str | None = None) -> str:
    """The page's language: the person's locale if known, else the browser's choice, else Korean."""
    if locale:
        return "en" if locale.lower().startswith("en") else "ko"
    return request.accept_languages.best_match(LANGUAGES, default="ko") or "ko"


def html_page(template: str, status: int = 200, **values: object) -> Response:
    """An HTML page under a person's link (``register`` keeps it private)."""
    return Response(render_template(template, **values), status=status, mimetype="text/html")


def moved(location: str, status: int) -> Response:
    """A redirect with no body: Flask's would be an English "Redirecting..." page."""
    return Response(status=status, headers={"Location": location})


def link_problem(
    status: int, reason: str, locale: str | None = None, center: Center | None = None, again: str = ""
) -> Response:
    """The page a link gets when it cannot show what it stands for, with the centre's phone if known.

    ``again`` is the page to open again (a stale form), if any.
    """
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {REASONS}")
    return html_page(
        "link_problem.html",
        status,
        lang=language(locale),
        reason=reason,
        center=center,
        center_phone=format_phone_kr(center.phone) if center is not None else None,
        again=again,
    )


def routing_problem(exc: HTTPException) -> Response:
    """What the router answers under a person's link: a page, never the API's JSON.

    A path that matches nothing is an unknown link; a button's address opened as a page (405)
    says so and links to the page it belongs to (``/a/{token}`` of ``/a/{token}/confirm``).
    """
    if exc.code != 405:
        return link_problem(404, UNKNOWN)
    parent = request.path.rstrip("/").rsplit("/", 1)[0]
    response = link_problem(405, BUTTON_ADDRESS, again=parent if parent.count("/") >= 2 else "")
    response.headers.extend((name, value) for name, value in exc.get_headers() if name == "Allow")
    return response
