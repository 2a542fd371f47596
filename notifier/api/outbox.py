"""The outbox in the browser: what would have been sent, when no provider is set up."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from notifier.api.context import context
from notifier.api.openapi import PUBLIC, Answers, doc, problems, text
from notifier.channels.outbox import outbox
from notifier.errors import NotFound

bp = Blueprint("outbox", __name__)


@bp.get("/outbox")
@doc(
    resp=Answers(HTTP_200=(None, "HTML page"), content={200: text("text/html")}, **problems(404)),
    security=PUBLIC,
)
def index() -> str:
    """Sandbox outbox (HTML, sandbox mode only)"""
    ctx = context()
    if not ctx.settings.sandbox:
        # Only a setup with no provider at all (a trial or development) shows it, without login:
        # with one real provider configured, this is a production service and must not.
        raise NotFound("the outbox is shown only while no provider is configured")
    with ctx.engine.connect() as conn:
        rows = list(conn.execute(select(outbox).order_by(outbox.c.id.desc()).limit(100)).mappings())
    return render_template("outbox.html", rows=rows)
