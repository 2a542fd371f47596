"""API keys (the ministry only: keys are the service's, not a centre's): list, create (the key
shown once on the answer page, never stored readable), revoke."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for

from notifier.api.context import context
from notifier.console.i18n import said, word
from notifier.console.pages import FormProblem, not_found, page
from notifier.console.session import client_address, current_staff, login_required
from notifier.keys import repository as key_repo
from notifier.keys import service as keys

bp = Blueprint("keys", __name__)
SCOPES = sorted(key_repo.SCOPES)


def _ministry_only() -> None:
    if not current_staff().sees_every_center:
        raise not_found()


def _listing(
    status: int = 200, created: dict[str, object] | None = None, notice: str | None = None
) -> Response:
    return page(
        "console/keys.html",
        status,
        keys=keys.list_keys(context())["keys"],
        scopes=SCOPES,
        created=created,
        notice=notice,
    )


@bp.get("/keys")
@login_required
def index() -> Response:
    _ministry_only()
    return _listing(notice=word("key_revoked") if request.args.get("revoked") else None)


@bp.post("/keys")
@login_required
def create() -> Response:
    _ministry_only()
    name = request.form.get("name", "").strip()
    owner = request.form.get("owner", "").strip() or None
    scopes = request.form.getlist("scopes")
    problems: list[tuple[str, str]] = []
    if not name or len(name) > 100 or not name.isprintable():
        problems.append(
            (word("name"), said("1자 이상 100자 이하로 입력하세요.", "Enter 1 to 100 characters."))
        )
    if owner is not None and (len(owner) > 100 or not owner.isprintable()):
        problems.append((word("owner"), said("100자 이하로 입력하세요.", "Enter at most 100 characters.")))
    if not scopes or set(scopes) - set(SCOPES):
        problems.append((word("scopes"), said("권한을 하나 이상 고르세요.", "Choose at least one scope.")))
    if problems:
        raise FormProblem(422, said("API 키를 만들 수 없습니다.", "The API key cannot be created."), problems)
    created = keys.create_key(context(), name, scopes, owner, current_staff(), client_address())
    return _listing(201, created=created)


@bp.post("/keys/<key_id>/revoke")
@login_required
def revoke(key_id: str) -> Response:
    _ministry_only()
    keys.revoke_key(context(), key_id[:36], current_staff(), client_address())
    return redirect(url_for("console.keys.index", revoked=1), code=303)  # type: ignore[return-value]
