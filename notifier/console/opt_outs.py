"""Opt-outs: look an address up (when and how it opted out), and record one a person asked
for in person, by phone or in writing. Forms are POSTed: the address never appears in a URL.
An opt-out is service-wide (it protects the person from every centre), so every account may
search and add; each addition is in the audit log."""

from __future__ import annotations

from flask import Blueprint, Response, request

from notifier.api.context import context
from notifier.consent import opt_outs
from notifier.consent.addresses import normalise_address
from notifier.consent.coverage import SCOPES
from notifier.consent.opt_outs import SCOPE_LABELS
from notifier.console.i18n import language, said, word
from notifier.console.labels import SOURCE_LABELS
from notifier.console.pages import FormProblem, page
from notifier.console.session import audit, current_staff, login_required
from notifier.domain.phones import mask_email, mask_phone
from notifier.errors import ValidationFailed

bp = Blueprint("opt_outs", __name__)
# How a person can ask staff directly; the other sources (link, reply, API) record themselves.
CONSOLE_SOURCES = ("call_center", "in_person", "written", "email_reply")


def _bad_address() -> FormProblem:
    """The 422 page of an address that is neither a mobile number nor an email."""
    return FormProblem(422, word("bad_address"), [(said("주소", "Address"), word("bad_address"))])


def _address(raw: str) -> tuple[str, str]:
    """(channel, normalised address) of what was typed, or a 422 page."""
    value = raw.strip()[:320]
    channel = "email" if "@" in value else "sms"
    try:
        normalised = normalise_address(channel, value)
    except (ValidationFailed, ValueError) as exc:
        raise _bad_address() from exc
    if not value or (channel == "email" and (normalised.startswith("@") or normalised.endswith("@"))):
        raise _bad_address()
    return channel, normalised


def _mask(channel: str, address: str) -> str:
    return mask_phone(address) if channel == "sms" else mask_email(address)


def _page(status: int = 200, **values: object) -> Response:
    lang = language()
    return page(
        "console/opt_outs.html",
        status,
        scopes=[(s, SCOPE_LABELS[lang][s]) for s in SCOPES],
        sources=[(s, SOURCE_LABELS[s][lang == "en"]) for s in CONSOLE_SOURCES],
        source_label=lambda s: SOURCE_LABELS.get(s, (s, s))[lang == "en"],
        scope_label=lambda s: SCOPE_LABELS[lang].get(s, s),
        **values,
    )


@bp.get("/opt-outs")
@login_required
def index() -> Response:
    return _page()


@bp.post("/opt-outs/search")
@login_required
def search() -> Response:
    channel, address = _address(request.form.get("address", ""))
    records = opt_outs.opt_outs_for(context(), channel, address)
    return _page(searched=_mask(channel, address), records=records)


@bp.post("/opt-outs")
@login_required
def add() -> Response:
    scope = request.form.get("scope", "")
    source = request.form.get("source", "")
    problems = []
    if scope not in SCOPES:
        problems.append((word("scope"), said("범위를 고르세요.", "Choose a scope.")))
    if source not in CONSOLE_SOURCES:
        problems.append((word("source"), said("접수 경로를 고르세요.", "Choose a source.")))
    channel, address = _address(request.form.get("address", ""))
    if problems:
        raise FormProblem(
            422, said("수신거부를 등록할 수 없습니다.", "The opt-out cannot be recorded."), problems
        )
    staff = current_staff()
    center = staff.centers[0] if staff.centers else None
    created, view = opt_outs.record_opt_out(
        context(), channel=channel, address=address, scope=scope, source=source, center_code=center
    )
    with context().engine.begin() as conn:
        audit(
            conn, "opt_out_added", "opt_out", str(view["id"]), center_code=center,
            detail=f"{_mask(channel, address)} scope={scope} source={source} new={created}",
        )  # fmt: skip
    records = opt_outs.opt_outs_for(context(), channel, address)
    return _page(201 if created else 200, searched=_mask(channel, address), records=records, added=True)
