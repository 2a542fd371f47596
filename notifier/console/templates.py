"""Templates: the list, each template's versions (who saved each), the difference between two
versions, editing with a live preview and the save-time refusals shown at their line, and
restoring an old version (saved again as the newest), over ``notifier.templates``.

Rules: a template another centre first saved is a 404 (``templates.ownership``); the shipped
templates are shared, and only a manager or the ministry may change one (the API asks for the
``admin`` scope). Every save and restore is written to the audit log.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request, url_for

from notifier.api.context import context
from notifier.console.campaign_forms import template_visible
from notifier.console.i18n import said, word
from notifier.console.pages import FormProblem, not_found, page
from notifier.console.session import audit, current_staff, login_required
from notifier.domain.templates import TemplateVersion
from notifier.errors import FieldError, TemplateRejected, ValidationFailed
from notifier.staff.accounts import Role, StaffAccount
from notifier.templates import library, ownership
from notifier.templates import repository as repo
from notifier.templates.compare import diff_versions, line_of
from notifier.templates.rendering import Renderer

bp = Blueprint("templates", __name__)
MAX_SOURCE = 100_000


def _first_author(key: str) -> str:
    """The author of ``key``'s first version if the signed-in account may see it; else a 404."""
    with context().engine.connect() as conn:
        author = ownership.first_authors(conn).get(key[:100])
    if author is None or not template_visible(current_staff(), author):
        raise not_found()
    return author


def _version(key: str, number: int | None = None) -> TemplateVersion:
    with context().engine.connect() as conn:
        found = repo.get(conn, key, number)
    if found is None:
        raise not_found()
    return found


def _may_change(staff: StaffAccount, author: str) -> None:
    if ownership.is_shipped(author) and staff.role not in (Role.MANAGER, Role.MINISTRY):
        raise FormProblem(403, word("shipped_needs_manager"))


def _author(staff: StaffAccount, first_author: str) -> library.Author:
    code = ownership.center_of(first_author) or (staff.centers[0] if staff.centers else "ministry")
    admin = staff.role in (Role.MANAGER, Role.MINISTRY)
    return library.Author(owner=ownership.center_author(code), key_name=staff.email[:100], admin=admin)


@bp.get("/templates")
@login_required
def index() -> Response:
    staff = current_staff()
    with context().engine.connect() as conn:
        authors = ownership.first_authors(conn)
        current = repo.listing(conn)
    shown = [(v, authors.get(v.key, "")) for v in current if template_visible(staff, authors.get(v.key, ""))]
    return page(
        "console/templates.html", templates=shown, shipped=ownership.is_shipped, center_of=ownership.center_of
    )


@bp.get("/templates/<key>")
@login_required
def show(key: str) -> Response:
    author = _first_author(key)
    history = library.template_versions(context(), key)
    return page(
        "console/template.html",
        key=key,
        history=history,
        shipped=ownership.is_shipped(author),
        notice=word("template_saved") if request.args.get("saved") else None,
    )


def _number(raw: str | None, label: str) -> int:
    try:
        return int(raw or "")
    except ValueError as exc:
        choose = said("버전 번호를 고르세요.", "Choose a version number.")
        raise FormProblem(422, choose, [(label, (raw or "")[:20])]) from exc


@bp.get("/templates/<key>/diff")
@login_required
def diff(key: str) -> Response:
    _first_author(key)
    old = _version(key, _number(request.args.get("a"), word("older")))
    new = _version(key, _number(request.args.get("b"), word("newer")))
    return page("console/template_diff.html", key=key, old=old, new=new, parts=diff_versions(old, new))


def _sources(form: Mapping[str, str], current: TemplateVersion) -> dict[str, dict[str, str]]:
    """The edited text of each part the current version has (the form may not add parts)."""
    sources: dict[str, dict[str, str]] = {}
    for locale, parts in current.sources.items():
        for part, text in parts.items():
            edited = form.get(f"src:{locale}:{part}", text).replace("\r\n", "\n")
            if len(edited) > MAX_SOURCE:
                limit = said(f"{MAX_SOURCE:,}자 이하", f"At most {MAX_SOURCE:,} characters")
                too_long = said("템플릿이 너무 깁니다.", "The template is too long.")
                raise FormProblem(422, too_long, [(f"{locale}/{part}", limit)])
            sources.setdefault(locale, {})[part] = edited
    return sources


def _problems(errors: list[FieldError]) -> dict[tuple[str, str], list[tuple[int | None, str]]]:
    """Refusals by (locale, part), each with the line it names; others under ('', '')."""
    found: dict[tuple[str, str], list[tuple[int | None, str]]] = {}
    for error in errors:
        bits = error.pointer.strip("/").split("/")
        where = (bits[1], bits[2]) if len(bits) == 3 and bits[0] == "sources" else ("", "")
        line = line_of(error.detail)
        detail = re.sub(r"^line \d+: ", "", error.detail) if line else error.detail
        found.setdefault(where, []).append((line, detail))
    return found


def _editor(
    key: str,
    current: TemplateVersion,
    sources: Mapping[str, Mapping[str, str]],
    status: int = 200,
    problems: Mapping[tuple[str, str], Any] | None = None,
) -> Response:
    return page(
        "console/template_edit.html",
        status,
        key=key,
        current=current,
        sources=sources,
        problems=problems or {},
    )


@bp.get("/templates/<key>/edit")
@login_required
def edit(key: str) -> Response:
    _first_author(key)
    current = _version(key)
    return _editor(key, current, current.sources)


@bp.post("/templates/<key>")
@login_required
def save(key: str) -> Response:
    staff = current_staff()
    author = _first_author(key)
    _may_change(staff, author)
    current = _version(key)
    sources = _sources(request.form, current)
    try:
        library.save_template(context(), key, current.spec, sources, _author(staff, author))
    except TemplateRejected as exc:
        return _editor(key, current, sources, 422, _problems(exc.errors))
    with context().engine.begin() as conn:
        audit(
            conn,
            "template_saved",
            "template",
            key,
            center_code=ownership.center_of(author),
            detail=f"from v{current.version}",
        )
    return Response(status=303, headers={"Location": url_for("console.templates.show", key=key, saved=1)})


@bp.post("/templates/<key>/restore")
@login_required
def restore(key: str) -> Response:
    staff = current_staff()
    author = _first_author(key)
    _may_change(staff, author)
    old = _version(key, _number(request.form.get("version"), word("version")))
    _, saved = library.save_template(context(), key, old.spec, old.sources, _author(staff, author))
    with context().engine.begin() as conn:
        audit(
            conn,
            "template_restored",
            "template",
            key,
            center_code=ownership.center_of(author),
            detail=f"v{old.version} saved as v{saved['version']}",
        )
    return Response(status=303, headers={"Location": url_for("console.templates.show", key=key, saved=1)})


@bp.post("/templates/<key>/preview")
@login_required
def preview(key: str) -> Response:
    """The edited text rendered with the template's sample data, or why it cannot be saved."""
    _first_author(key)
    current = _version(key)
    candidate = TemplateVersion(
        key=key, version=0, spec=current.spec, sources=_sources(request.form, current)
    )
    errors = library.check_candidate(context(), candidate)
    rendered = []
    if not errors:
        renderer = Renderer(context().templates_dir / "_layout")
        for locale in candidate.sources:
            for channel in candidate.spec.channels:
                if not candidate.has_channel(channel, locale):
                    continue
                sample = copy.deepcopy(dict(candidate.spec.sample_for(locale)))
                try:
                    rendered.append(renderer.render(candidate, channel, locale, sample))
                except ValidationFailed as exc:
                    errors += exc.errors
    return page(
        "console/template_preview.html", 422 if errors else 200, rendered=rendered, problems=_problems(errors)
    )
