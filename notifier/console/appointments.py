"""Appointments: a centre's day, each appointment with its reminder plan, what was sent and the
person's answer (confirmed, change requested), over ``notifier.appointments``.

The centre and the day travel in the URL (no personal data); the person's name, phone and
email are shown masked. Another centre's day or appointment is a 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, request

from notifier.api.context import context
from notifier.appointments import by_day
from notifier.console.campaign_forms import center_choices
from notifier.console.i18n import word
from notifier.console.pages import FormProblem, not_found, page
from notifier.console.session import current_staff, login_required
from notifier.domain.phones import mask_email, mask_phone
from notifier.staff.scope import require_center

bp = Blueprint("appointments", __name__)


def mask_name(name: str) -> str:
    """'홍길동' -> '홍*동', '김철' -> '김*', 'Alice Kim' -> 'A*******m'."""
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def person(recipient: dict[str, Any]) -> str:
    """The booked person as the console shows them: masked name and contacts."""
    bits = [mask_name(str(recipient.get("name") or ""))]
    if recipient.get("phone"):
        bits.append(mask_phone(str(recipient["phone"])))
    if recipient.get("email"):
        bits.append(mask_email(str(recipient["email"])))
    return " · ".join(b for b in bits if b)


@bp.get("/appointments")
@login_required
def index() -> Response:
    ctx = context()
    staff = current_staff()
    choices = center_choices(staff)
    if not choices:
        return page(
            "console/appointments.html", centers=[], center="", day="", items=[], sent={}, person=person
        )
    center = request.args.get("center", "") or choices[0][0]
    require_center(staff, center[:50])
    raw_day = request.args.get("day", "")
    try:
        day = date.fromisoformat(raw_day) if raw_day else ctx.clock().astimezone(ctx.settings.timezone).date()
    except ValueError as exc:
        raise FormProblem(422, word("bad_date"), [(word("day"), raw_day[:20])]) from exc
    with ctx.engine.connect() as conn:
        items = by_day.of_day(conn, [center], day, ctx.settings.timezone)
        sent = by_day.sent_for(conn, [row["id"] for row in items])
    return page(
        "console/appointments.html",
        centers=choices,
        center=center,
        day=day.isoformat(),
        items=items,
        sent=sent,
        person=person,
    )


@bp.get("/appointments/<appointment_id>")
@login_required
def show(appointment_id: str) -> Response:
    with context().engine.connect() as conn:
        row = by_day.one(conn, appointment_id[:36])
        if row is None:
            raise not_found()
        require_center(current_staff(), row["center_code"])
        sent = by_day.sent_for(conn, [row["id"]])
    return page("console/appointment.html", a=row, sent=sent.get(row["id"], []), person=person)
