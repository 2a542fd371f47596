"""The person's own page, ``/a/{token}``: see the appointment, confirm it or ask for a change.

No login: the token in the link is the credential (signed, tied to one appointment, useless
after the appointment ends). The two buttons are POST forms protected against CSRF.
Twilio does not carry replies from Korean handsets, so this page is how people answer.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from pydantic import BaseModel, Field
from wtforms import ValidationError as CsrfInvalid

from notifier.api.context import context
from notifier.api.openapi import PUBLIC, Answers, doc, problems, text
from notifier.appointments import page
from notifier.appointments.notices import KIND_LABELS
from notifier.appointments.rules import page_closed
from notifier.centers import service as centers
from notifier.domain.display import format_datetime, format_duration_minutes
from notifier.domain.phones import format_phone_kr
from notifier.errors import Conflict

bp = Blueprint("recipient_page", __name__)


class AnswerForm(BaseModel):
    """The page's form (application/x-www-form-urlencoded)."""

    csrf_token: str = Field(min_length=1, description="the token the page carries in its form")


def _appointment(token: str):  # type: ignore[no-untyped-def]
    ctx = context()
    appointment = page.appointment_for(ctx, token)
    if appointment is None:
        abort(404)
    if page_closed(appointment, ctx.clock()):
        abort(410)
    return appointment


@bp.get("/a/<token>")
@doc(
    resp=Answers(HTTP_200=(None, "HTML page"), content={200: text("text/html")}, **problems(404, 410)),
    security=PUBLIC,
)
def show(token: str) -> str:
    """The person's appointment page (HTML, no login)"""
    ctx = context()
    appointment = _appointment(token)
    center = centers.get(ctx, appointment.center_code, "/center")
    locale = appointment.locale
    lang = "en" if locale.startswith("en") else "ko"
    return render_template(
        "appointment.html",
        lang=lang,
        token=token,
        row=appointment,
        kind=KIND_LABELS[appointment.kind][lang],
        when=format_datetime(appointment.starts_at, locale, center.timezone),
        duration=format_duration_minutes(appointment.duration_minutes, locale),
        center=center,
        center_phone=format_phone_kr(center.phone),
        csrf_token=generate_csrf(),
    )


@bp.post("/a/<token>/<answer>")
@doc(
    form=AnswerForm,
    resp=Answers(HTTP_303=(None, "Back to the page"), **problems(400, 404, 409, 410)),
    security=PUBLIC,
)
def respond(token: str, answer: str) -> Response:
    """Confirm attendance (`confirm`) or ask for a change (`change`)

    A form on the person's page, protected against CSRF.
    """
    if answer not in page.ANSWERS:
        abort(404)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except CsrfInvalid as exc:
        raise CSRFError(str(exc)) from exc
    appointment = _appointment(token)
    try:
        attendance = page.record_answer(context(), appointment, answer)
    except Conflict:
        abort(409)
    return redirect(url_for("recipient_page.show", token=token, answered=attendance), code=303)  # type: ignore[return-value]
