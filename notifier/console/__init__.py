"""The staff console (``/console``): thin blueprints over the feature packages.

One parent blueprint holds what every page shares: the CSRF check on every form (Flask-WTF's
token, the same mechanism as the person's page), the problem pages, the language switch and
the static files. Each page module adds a child blueprint; ``register_console`` wires them.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, redirect, request, url_for
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError as CsrfInvalid

from notifier.api.problems import add_routing_page
from notifier.console import (
    appointments,
    attendance,
    audit_page,
    auth,
    campaigns,
    experiments,
    home,
    keys,
    messages,
    opt_outs,
    outcomes,
    staff_page,
    templates,
)
from notifier.console.i18n import LANG_COOKIE, LANGUAGES, language, said
from notifier.console.pages import FormProblem, not_found, problem_page
from notifier.console.session import signed_in
from notifier.console.work_words import add_words
from notifier.errors import NotifierError

STALE_FORM = {
    "ko": "양식이 만료되었거나 쿠키가 차단되었습니다. 페이지를 다시 열고 시도하세요.",
    "en": "The form has expired or cookies are blocked. Open the page again and retry.",
}

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@bp.before_request
def _csrf_on_every_form() -> Response | None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    try:
        validate_csrf(request.form.get("csrf_token"))
    except CsrfInvalid:
        return problem_page(400, STALE_FORM[language()])
    return None


@bp.errorhandler(FormProblem)
def _form_problem(exc: FormProblem) -> Response:
    return problem_page(exc.status, exc.message, exc.details)


@bp.errorhandler(NotifierError)
def _notifier_error(exc: NotifierError) -> Response:
    status = exc.status if 400 <= exc.status < 500 else 500
    if status == 500:
        raise exc
    if status == 404:  # another centre's object too (staff.scope): the console's one 404
        return _form_problem(not_found())
    # A feature's own wording is English (it is the API's); the page's title says it in Korean.
    readable = exc.detail if any("가" <= ch <= "힣" for ch in exc.detail) else ""
    return problem_page(status, readable)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return problem_page(exc.code or 400, "")


def _page_above(path: str) -> str:
    """The nearest page above ``path`` that a browser can open (e.g. a campaign's, for its
    ``/start``), else the home page."""
    routes = current_app.url_map.bind_to_environ(request.environ)
    while path.count("/") > 2:
        path = path.rsplit("/", 1)[0]
        try:
            routes.match(path, method="GET")
        except HTTPException:  # no such page, or not one to open
            continue
        return path
    return url_for("console.home.index")


def _routing_error(exc: HTTPException) -> Response:
    """A console address that does not exist (404) or is only for forms (405): the console's own
    page in the page's language (``api.problems.add_routing_page``)."""
    if "staff" not in g:
        g.staff = signed_in()  # the menu of the page, for whoever is signed in
    if exc.code != 405:
        return _form_problem(not_found())
    only_forms = said(
        "이 주소는 양식을 보낼 때만 쓰여서 바로 열 수 없습니다. 아래 링크로 돌아가 다시 시도해 주세요.",
        "This address is only used to send a form, so it cannot be opened directly. "
        "Follow the link below to go back and try again.",
    )
    response = problem_page(405, only_forms, back=_page_above(request.path))
    response.headers.extend((name, value) for name, value in exc.get_headers() if name == "Allow")
    return response


@bp.post("/language")
def choose_language() -> Response:
    """Remember the chosen language and go back to the page."""
    chosen = request.form.get("lang", "")
    if chosen not in LANGUAGES:
        raise FormProblem(422, said("언어는 ko 또는 en이어야 합니다.", "The language must be ko or en."))
    back = request.form.get("next", "")
    target = back if back.startswith("/console") and "//" not in back else "/console/"
    response: Response = redirect(target, code=303)  # type: ignore[assignment]
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, path="/console", samesite="Lax")
    return response


add_words()
for child in (auth.bp, home.bp, messages.bp, opt_outs.bp, keys.bp, staff_page.bp, audit_page.bp):
    bp.register_blueprint(child)
for child in (campaigns.bp, templates.bp, appointments.bp, attendance.bp, experiments.bp, outcomes.bp):
    bp.register_blueprint(child)


def register_console(app: Flask) -> None:
    """Mount the console on the app and set the cookie rules its forms rely on."""
    settings = app.extensions["notifier"].settings
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    app.register_blueprint(bp)
    add_routing_page(app, "/console", _routing_error)
