"""Rendering console pages in the shared layout, and the problem page a refused form gets.

Every page extends ``console/layout.html`` and is rendered through ``page()``, which adds what
the layout needs (language, words, the signed-in account, the CSRF token). A form that cannot
be accepted raises ``FormProblem``: the person gets a page in their language saying what is
wrong, with a 4xx status, and nothing was changed.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, current_app, g, render_template, request
from flask_wtf.csrf import generate_csrf

from notifier.api.context import context
from notifier.api.pages import keep_private
from notifier.console import labels
from notifier.console.i18n import language, said, word
from notifier.domain.display import format_duration_minutes
from notifier.staff.accounts import StaffAccount

CONSOLE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
)
PROBLEM_TITLES = {
    400: ("요청을 처리할 수 없습니다", "The request cannot be handled"),
    403: ("권한이 없습니다", "You are not allowed to do this"),
    404: ("찾을 수 없습니다", "Not found"),
    409: ("지금은 할 수 없습니다", "This cannot be done now"),
    422: ("입력한 내용을 확인해 주세요", "Please check what you entered"),
    405: ("바로 열 수 없는 주소입니다", "This address cannot be opened directly"),
    429: ("요청이 너무 많습니다", "Too many attempts"),
}


# The menu: (endpoint, word key, who sees it). A page module adds its entry here; an entry whose
# endpoint is not registered is left out.
NAV: list[tuple[str, str, str]] = [
    ("console.home.index", "home", "everyone"),
    ("console.campaigns.index", "campaigns", "everyone"),
    ("console.templates.index", "templates", "everyone"),
    ("console.appointments.index", "appointments", "everyone"),
    ("console.messages.index", "messages", "everyone"),
    ("console.opt_outs.index", "opt_outs", "everyone"),
    ("console.attendance.index", "attendance", "everyone"),
    ("console.experiments.index", "experiments", "everyone"),
    ("console.keys.index", "keys", "ministry"),
    ("console.staff.index", "staff", "managers"),
    ("console.audit.index", "audit", "managers"),
]


def _menu(staff: StaffAccount | None) -> list[tuple[str, str, bool]]:
    """(endpoint, label, current) for each menu entry the account may use."""
    if staff is None:
        return []
    allowed = {"everyone": True, "ministry": staff.sees_every_center, "managers": staff.reads_audit_log}
    current = request.endpoint or ""
    return [
        (endpoint, key, current.rsplit(".", 1)[0] == endpoint.rsplit(".", 1)[0])
        for endpoint, key, who in NAV
        if allowed[who] and endpoint in current_app.view_functions
    ]


class FormProblem(Exception):
    """A form or request the console refuses; ``details`` are (field label, problem) in Korean/English."""

    def __init__(self, status: int, message: str, details: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []


def not_found() -> FormProblem:
    """The one 404 of the console, in the page's language.

    Whatever is missing (a campaign, a template, a page the role may not open), and whether it
    does not exist or belongs to another centre (``staff.scope``), the page says the same, so
    it tells nobody what exists elsewhere.
    """
    return FormProblem(404, said("없는 항목입니다.", "No such item."))


def when(value: datetime | str | None) -> str:
    """A time as the console shows it: in the service's zone, in the page's language.

    ``value`` may be a datetime or an API view's ISO 8601 text (UTC, with its offset).
    """
    if value is None or value == "":
        return word("never")
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(context().settings.timezone).strftime("%Y-%m-%d %H:%M")


def page(template: str, status: int = 200, **values: object) -> Response:
    """Render a console page in the shared layout."""
    lang = language()
    staff: StaffAccount | None = g.get("staff")
    html = render_template(
        template,
        lang=lang,
        t=lambda key: word(key, lang),
        when=when,
        staff=staff,
        role_label=labels.label("role", staff.role, lang) if staff else "",
        label_of=lambda kind, code: labels.label(kind, code, lang),
        center_name=labels.center_name,
        template_name=lambda key: labels.template_name(key, lang),
        rejection_reason=lambda reason: labels.rejection_reason(reason, lang),
        history_note=lambda detail: labels.history_detail(detail, lang),
        minutes=lambda n: format_duration_minutes(n, lang),
        csrf_token=generate_csrf,
        menu=_menu(staff),
        here=request.path,
        **values,
    )
    response = Response(html, status=status, mimetype="text/html")
    return keep_private(response, referrer="same-origin", policy=CONSOLE_POLICY)


def problem_page(
    status: int, message: str, details: list[tuple[str, str]] | None = None, back: str | None = None
) -> Response:
    """The page a refused request gets: what is wrong, that nothing changed, and a way back
    (``back``, else the home page)."""
    ko, en = PROBLEM_TITLES.get(status, PROBLEM_TITLES[400])
    title = en if language() == "en" else ko
    values = {"title": title, "message": message, "details": details or [], "back": back}
    return page("console/problem.html", status, **values)


def center_names() -> dict[str, str]:
    """Each centre's name by its code, for pages that offer centres to choose from."""
    return labels.center_names()
