"""Messages: search (by address, reference, status, channel, dates) and one message's detail.

The search form is POSTed, so a phone number or email never appears in a URL (nor in access
logs or the browser's history); the next page is the same form with a cursor. Addresses are
shown masked. Another centre's message is a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, request

from notifier.api.context import context
from notifier.console.i18n import said, word
from notifier.console.pages import FormProblem, not_found, page
from notifier.console.session import current_staff, login_required
from notifier.domain.message_status import Status
from notifier.domain.phones import mask_email, mask_personal_data, mask_phone
from notifier.errors import ValidationFailed
from notifier.messages import search as finder
from notifier.messages.search import MessageSearch
from notifier.messages.tables import REFERENCE_LENGTH
from notifier.staff.scope import require_center, visible_centers

bp = Blueprint("messages", __name__)
CHANNELS = ("sms", "email")
FIELDS = ("q", "reference", "status", "channel", "date_from", "date_to")


def masked(row: Mapping[Any, Any]) -> str:
    """The message's address as the console shows it: ``010-****-5678``, ``h***@example.com``."""
    if row.get("to_phone"):
        return mask_phone(row["to_phone"])
    return mask_email(row["to_email"]) if row.get("to_email") else ""


def _day(value: str, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FormProblem(422, word("bad_date"), [(label, value[:20])]) from exc


def parse_search(form: dict[str, str]) -> MessageSearch:
    """The search the form asks for, or ``FormProblem`` naming each bad field (in the page's language)."""
    from notifier.domain.phones import parse_phone

    problems: list[tuple[str, str]] = []
    address = form.get("q", "").strip()
    phone = email = None
    if address:
        if "@" in address:
            email = address
            if len(email) > 320 or " " in email or email.startswith("@") or email.endswith("@"):
                problems.append((word("phone_or_email"), word("bad_address")))
        else:
            try:
                phone = parse_phone(address).e164
            except ValidationFailed:
                problems.append((word("phone_or_email"), word("bad_address")))
    reference = form.get("reference", "").strip() or None
    if reference and len(reference) > REFERENCE_LENGTH:
        limit = said(f"{REFERENCE_LENGTH}자 이하여야 합니다.", f"At most {REFERENCE_LENGTH} characters.")
        problems.append((word("reference"), limit))
    status = form.get("status", "") or None
    if status and status not in {s.value for s in Status}:
        problems.append((word("status"), said("알 수 없는 상태입니다.", "Unknown status.")))
    channel = form.get("channel", "") or None
    if channel and channel not in CHANNELS:
        problems.append((word("channel"), said("sms 또는 email이어야 합니다.", "Choose sms or email.")))
    zone = context().settings.timezone
    since_day = _day(form.get("date_from", ""), word("from_date"))
    until_day = _day(form.get("date_to", ""), word("to_date"))
    if since_day and until_day and since_day > until_day:
        problems.append(
            (word("from_date"), said("종료일보다 늦을 수 없습니다.", "Cannot be later than the end date."))
        )
    if problems:
        raise FormProblem(422, said("검색 조건을 확인해 주세요.", "Check the search conditions."), problems)
    return MessageSearch(
        centers=visible_centers(current_staff()),
        phone=phone,
        email=email,
        reference=reference,
        status=status,
        channel=channel,
        since=datetime.combine(since_day, time(), zone) if since_day else None,
        until=datetime.combine(until_day + timedelta(days=1), time(), zone) if until_day else None,
    )


def _results(form: dict[str, str]) -> Response:
    query = parse_search(form)
    cursor = form.get("cursor", "") or None
    try:
        with context().engine.connect() as conn:
            rows, next_cursor = finder.search(conn, query, cursor)
    except ValidationFailed as exc:
        raise FormProblem(
            422,
            said(
                "다음 페이지 정보가 올바르지 않습니다. 처음부터 다시 검색하세요.",
                "The next page link is not valid. Please search again from the start.",
            ),
        ) from exc
    return page(
        "console/messages.html",
        form=form,
        rows=rows,
        next_cursor=next_cursor,
        masked=masked,
        statuses=[s.value for s in Status],
        channels=CHANNELS,
    )


@bp.get("/messages")
@login_required
def index() -> Response:
    """The newest messages of the account's centres, with the search form."""
    return _results({})


@bp.post("/messages")
@login_required
def search() -> Response:
    form = {name: request.form.get(name, "")[:400] for name in (*FIELDS, "cursor")}
    return _results(form)


@bp.get("/messages/<message_id>")
@login_required
def show(message_id: str) -> Response:
    with context().engine.connect() as conn:
        found = finder.detail(conn, message_id[:36])
    if found is None:
        raise not_found()
    row, history = found
    require_center(current_staff(), row["center_code"])
    return page(
        "console/message.html",
        row=row,
        to=masked(row),
        history=history,
        clean=mask_personal_data,
    )
