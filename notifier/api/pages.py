"""HTML pages people open from a message (``/a/...``, ``/u/...``), and the page a bad link gets.

A person who follows a link never reads JSON: a link that is unknown, altered, expired or no
longer answerable gets a small page in their language saying what happened and whom to call.
"""

from __future__ import annotations

from flask import Response, render_template

from notifier.api.openapi import text
from notifier.centers.service import Center
from notifier.domain.phones import format_phone_kr

HTML = text("text/html")
# Why a link shows no page; link_problem.html words each in Korean and English.
UNKNOWN = "unknown"  # forged, altered, damaged, or its appointment is gone
EXPIRED = "expired"  # the appointment has ended
CANCELLED = "cancelled"  # the appointment was cancelled and cannot be answered
CLOSED = "closed"  # the appointment is no longer open to answers
STALE_FORM = "stale_form"  # the form came without a valid CSRF token (e.g. cookies cleared)
REASONS = (UNKNOWN, EXPIRED, CANCELLED, CLOSED, STALE_FORM)


def language(locale: str | None) -> str:
    """The page's language: English when the locale asks for it, Korean otherwise."""
    return "en" if (locale or "").lower().startswith("en") else "ko"


def html_page(template: str, status: int = 200, **values: object) -> Response:
    """An HTML page that carries a token: kept out of caches and of Referer headers."""
    response = Response(render_template(template, **values), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


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
