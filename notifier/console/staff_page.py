"""Staff accounts, for managers (their centre's staff) and the ministry (everyone): list,
create one (its one-time password link shown once), give an account a new link."""

from __future__ import annotations

from flask import Blueprint, Response, request

from notifier.api.context import context
from notifier.console.i18n import said, word
from notifier.console.pages import FormProblem, not_found, page
from notifier.console.session import current_staff, login_required
from notifier.staff import accounts, signin
from notifier.staff.accounts import AccountRefused, Field, Role
from notifier.staff.scope import may_see, visible_centers

bp = Blueprint("staff", __name__)

# The word labelling each field of the form (as the page labels it) that a refusal can be about.
FIELD_WORDS: dict[Field, str] = {"email": "email", "name": "name", "role": "role", "centers": "center"}


def _managing() -> None:
    if not current_staff().reads_audit_log:  # managers and the ministry
        raise not_found()


def _listing(status: int = 200, **values: object) -> Response:
    account = current_staff()
    with context().engine.connect() as conn:
        people = accounts.listing(conn, visible_centers(account))
    roles = [r.value for r in Role] if account.sees_every_center else [Role.STAFF.value]
    centers = list(account.centers) if not account.sees_every_center else None
    return page("console/staff.html", status, people=people, roles=roles, centers=centers, **values)


@bp.get("/staff")
@login_required
def index() -> Response:
    _managing()
    return _listing()


@bp.post("/staff")
@login_required
def create() -> Response:
    _managing()
    actor = current_staff()
    email = request.form.get("email", "").strip()[:320]
    name = request.form.get("name", "").strip()[:100]
    role = request.form.get("role", "staff")
    codes = [c.strip() for c in request.form.get("centers", "").split(",") if c.strip()][:20]
    if not actor.sees_every_center and (role != Role.STAFF.value or not set(codes) <= set(actor.centers)):
        raise FormProblem(
            422,
            said(
                "센터 관리자는 자기 센터의 센터 직원 계정만 만들 수 있습니다.",
                "A centre manager can create only centre staff accounts of their own centre.",
            ),
        )
    try:
        created = signin.create_account(context(), email, name, role, codes, actor=actor)
    except AccountRefused as exc:
        problem = said(exc.words.ko, exc.words.en)
        raise FormProblem(422, problem, [(word(FIELD_WORDS[exc.field]), problem)]) from exc
    link = signin.issue_reset_link(context(), created.email, actor=actor)
    return _listing(201, link=link, link_for=created.email)


@bp.post("/staff/<account_id>/reset-link")
@login_required
def reset_link(account_id: str) -> Response:
    _managing()
    actor = current_staff()
    with context().engine.connect() as conn:
        target = accounts.get(conn, account_id[:36])
    if target is None or not any(may_see(actor, code) for code in target.centers or (None,)):
        raise not_found()
    link = signin.issue_reset_link(context(), target.email, actor=actor)
    return _listing(link=link, link_for=target.email)
