"""The outbox in the browser: what would have been sent through a channel with no provider.

Shown without login while no provider at all is configured (a trial, ``notifier dev``): it
holds only what never left the machine. Once any provider is configured, the messages a channel
without one keeps are real people's (an email to a job seeker when only SMS has a provider), so
the page is refused unless NOTIFIER_PUBLIC_OUTBOX says the machine reaches nobody (staging).
Times are shown in the zone of the centre each message was sent for (Asia/Seoul when unknown).
An email's HTML part opens whole at ``/outbox/{id}/html``, served with a CSP sandbox so that its
scripts never run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template
from sqlalchemy import select

from notifier.api.context import context
from notifier.api.openapi import PUBLIC, Answers, doc, problems, text
from notifier.centers import service as centers
from notifier.channels.outbox import outbox
from notifier.context import Context
from notifier.errors import NotFound, ValidationFailed
from notifier.messages.tables import messages

bp = Blueprint("outbox", __name__)
DEFAULT_ZONE = ZoneInfo("Asia/Seoul")
SHOWN = 100
# The email's own HTML, from whoever wrote the template: no script, no form, no plugin runs.
HTML_PART_POLICY = "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'"


def _require_outbox() -> Context:
    ctx = context()
    if not ctx.settings.outbox_channels:
        # Every channel has a real provider: nothing is kept here, and nothing is shown.
        raise NotFound("the outbox is shown only while a channel has no provider configured")
    if not ctx.settings.outbox_shown:
        raise NotFound(
            "the outbox is shown without login only while no provider at all is configured (a trial), "
            "or with NOTIFIER_PUBLIC_OUTBOX=true on a machine whose messages reach no real person"
        )
    return ctx


def _zones(ctx: Context, message_ids: Iterable[str]) -> dict[str, ZoneInfo]:
    """The zone of the centre each message was sent for."""
    with ctx.engine.connect() as conn:
        found = conn.execute(
            select(messages.c.id, messages.c.center).where(messages.c.id.in_(set(message_ids)))
        ).all()
    zones: dict[str, ZoneInfo] = {}
    for message_id, center in found:
        code = (center or {}).get("code")
        try:
            zones[message_id] = centers.get(ctx, code).timezone if code else DEFAULT_ZONE
        except ValidationFailed:  # a centre removed since
            zones[message_id] = DEFAULT_ZONE
    return zones


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """``moment`` as a reader in ``zone`` says it, e.g. ``2026-12-03 14:00:05 KST``."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


@bp.get("/outbox")
@doc(
    resp=Answers(HTTP_200=(None, "HTML page"), content={200: text("text/html")}, **problems(404)),
    security=PUBLIC,
)
def index() -> str:
    """Outbox (HTML; in a trial with no provider, or with NOTIFIER_PUBLIC_OUTBOX)"""
    ctx = _require_outbox()
    with ctx.engine.connect() as conn:
        rows = list(conn.execute(select(outbox).order_by(outbox.c.id.desc()).limit(SHOWN)).mappings())
    zones = _zones(ctx, (row["message_id"] for row in rows))
    entries: list[dict[str, Any]] = [
        {**row, "shown_at": local_time(row["created_at"], zones.get(row["message_id"], DEFAULT_ZONE))}
        for row in rows
    ]
    return render_template("outbox.html", rows=entries, channels=ctx.settings.outbox_channels, shown=SHOWN)


@bp.get("/outbox/<int:entry_id>/html")
@doc(
    resp=Answers(HTTP_200=(None, "The email's HTML part"), content={200: text("text/html")}, **problems(404)),
    security=PUBLIC,
)
def html_part(entry_id: int) -> Response:
    """One email's HTML part, whole (where the outbox is shown)"""
    ctx = _require_outbox()
    with ctx.engine.connect() as conn:
        html = conn.execute(select(outbox.c.html).where(outbox.c.id == entry_id)).scalar_one_or_none()
    if html is None:
        raise NotFound(f"the outbox holds no email HTML with id {entry_id}")
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
