"""The person's own page, ``/a/{token}``: see the appointment, confirm it or ask for a change.

No login: the token in the link is the credential (signed, tied to one appointment, useless
after the appointment ends). The two buttons are POST forms protected against CSRF.
Twilio does not carry replies from Korean handsets, so this page is how people answer.
A link that cannot show its appointment (unknown, expired, cancelled, a form left open too
long) gets a small HTML page in the person's language with the centre's phone, never JSON;
a link that names no appointment, in the browser's language. Every answer is kept private
(``pages.register``): no cache, no Referer, no framing by another site.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for
from flask_wtf.csrf import generate_csrf, validate_csrf
from pydantic import BaseModel, Field
from wtforms import ValidationError as CsrfInvalid

from notifier.api.context import context
from notifier.api.openapi import PUBLIC, Answers, doc
from notifier.api.pages import (
    CANCELLED,
    CLOSED,
    EXPIRED,
    HTML,
    STALE_FORM,
    UNKNOWN,
    html_page,
    language,
    link_problem,
    moved,
)
from notifier.appointments import page, short_links
from notifier.appointments.appointment import Appointment
from notifier.appointments.notices import KIND_LABELS, page_token
from notifier.appointments.rules import page_closed
from notifier.centers import service as centers
from notifier.centers.service import Center
from notifier.domain.appointment_status import AppointmentStatus
from notifier.domain.display import format_datetime, format_duration_minutes
from notifier.domain.phones import format_phone_kr
from notifier.errors import Conflict, ValidationFailed

bp = Blueprint("recipient_page", __name__)
SHORT_CODE_MAX = 16  # the column's width: a longer code was never given out


class AnswerForm(BaseModel):
    """The page's form (application/x-www-form-urlencoded)."""

    csrf_token: str = Field(min_length=1, description="the token the page carries in its form")


class LinkUnavailable(Exception):
    """The link cannot show its appointment; ``page`` is what the person sees instead."""

    def __init__(self, page: Response) -> None:
        super().__init__(page.status)
        self.page = page


@bp.errorhandler(LinkUnavailable)
def _unavailable(exc: LinkUnavailable) -> Response:
    return exc.page


def _center(appointment: Appointment) -> Center | None:
    try:
        return centers.get(context(), appointment.center_code, "/center")
    except ValidationFailed:  # the centre was removed since: the page still says what happened
        return None


def _unavailable_page(
    status: int, reason: str, appointment: Appointment | None = None, again: str = ""
) -> LinkUnavailable:
    if appointment is None:
        return LinkUnavailable(link_problem(status, reason))
    return LinkUnavailable(link_problem(status, reason, appointment.locale, _center(appointment), again))


def _appointment(token: str) -> Appointment:
    ctx = context()
    appointment = page.appointment_for(ctx, token)
    if appointment is None:
        raise _unavailable_page(404, UNKNOWN)
    if page_closed(appointment, ctx.clock()):
        raise _unavailable_page(410, EXPIRED, appointment)
    return appointment


@bp.get("/a/<token>")
@doc(
    resp=Answers(
        HTTP_200=(None, "HTML page"),
        HTTP_404=(None, "Unknown or altered link (HTML page)"),
        HTTP_410=(None, "The appointment has ended (HTML page)"),
        content={200: HTML, 404: HTML, 410: HTML},
    ),
    security=PUBLIC,
)
def show(token: str) -> Response:
    """The person's appointment page (HTML, no login)"""
    ctx = context()
    appointment = _appointment(token)
    center = centers.get(ctx, appointment.center_code, "/center")
    locale = appointment.locale
    lang = language(locale)
    return html_page(
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


@bp.get("/s/<code>")
@doc(
    resp=Answers(
        HTTP_302=(None, "To the person's page (/a/{token})"),
        HTTP_404=(None, "Unknown link (HTML page)"),
        HTTP_410=(None, "The appointment has ended (HTML page)"),
        content={404: HTML, 410: HTML},
    ),
    security=PUBLIC,
)
def short(code: str) -> Response:
    """The short link SMS carry: redirects to the person's page while it is open"""
    ctx = context()
    appointment_id = short_links.appointment_id_for(ctx, code) if len(code) <= SHORT_CODE_MAX else None
    if appointment_id is None:
        raise _unavailable_page(404, UNKNOWN)
    token = page_token(ctx, appointment_id)
    _appointment(token)  # the same 404/410 pages as the page itself
    return moved(url_for("recipient_page.show", token=token), 302)


@bp.post("/a/<token>/<answer>")
@doc(
    form=AnswerForm,
    resp=Answers(
        HTTP_303=(None, "Back to the page"),
        HTTP_400=(None, "The form's CSRF token is missing or expired (HTML page)"),
        HTTP_404=(None, "Unknown or altered link, or an unknown answer (HTML page)"),
        HTTP_409=(None, "The appointment is cancelled or no longer open (HTML page)"),
        HTTP_410=(None, "The appointment has ended (HTML page)"),
        content={400: HTML, 404: HTML, 409: HTML, 410: HTML},
    ),
    security=PUBLIC,
)
def respond(token: str, answer: str) -> Response:
    """Confirm attendance (`confirm`) or ask for a change (`change`)

    A form on the person's page, protected against CSRF.
    """
    if answer not in page.ANSWERS:
        raise _unavailable_page(404, UNKNOWN)
    appointment = _appointment(token)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except CsrfInvalid as exc:  # e.g. cookies cleared or blocked: ask to open the page again
        again = url_for("recipient_page.show", token=token)
        raise _unavailable_page(400, STALE_FORM, appointment, again) from exc
    try:
        attendance = page.record_answer(context(), appointment, answer)
    except Conflict as exc:
        cancelled = appointment.status == AppointmentStatus.CANCELLED
        raise _unavailable_page(409, CANCELLED if cancelled else CLOSED, appointment) from exc
    return moved(url_for("recipient_page.show", token=token, answered=attendance), 303)
