"""What an appointment says to its person: notices, reminders, their timing and calendar files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event
from itsdangerous import URLSafeSerializer
from sqlalchemy import Connection

from notifier.appointments.appointment import Appointment
from notifier.appointments.short_links import short_url
from notifier.centers.service import Center
from notifier.context import Context
from notifier.domain.display import format_datetime, format_duration_minutes
from notifier.domain.phones import format_phone_kr
from notifier.domain.quiet_hours import in_quiet_hours, next_allowed_at
from notifier.messages.accept import (
    Recipient,
    alimtalk_choice,
    new_message_row,
    render_for,
    template_context,
    with_alimtalk,
)
from notifier.messages.tables import REFERENCE_LENGTH
from notifier.templates import repository as template_repo

KIND_LABELS = {
    "in_depth_counseling": {"ko": "1:1 심층상담", "en": "1:1 in-depth counseling"},
    "psychological_support": {"ko": "심리지원 상담", "en": "psychological support"},
    "competency_assessment": {"ko": "직업역량진단", "en": "job-competency diagnosis"},
    "interview_resume_consulting": {"ko": "면접·이력서 컨설팅", "en": "interview and resume consulting"},
    "employer_consulting": {"ko": "기업 채용·인력유지 컨설팅", "en": "hiring and retention consulting"},
    "other": {"ko": "상담", "en": "appointment"},
}
TEMPLATES = {
    "confirmation": "appointment_confirmation",
    "reminder": "appointment_reminder",
    "change": "appointment_change",
    "cancellation": "appointment_cancellation",
}
PAGE_SALT = "appointment-page"
# Every message of an appointment carries the reference "appointment:{external_id}", so the
# longest external id is what the message's reference column leaves after the prefix.
REFERENCE_PREFIX = "appointment:"
MAX_EXTERNAL_ID = REFERENCE_LENGTH - len(REFERENCE_PREFIX)


def page_token(ctx: Context, appointment_id: str) -> str:
    """The unguessable token of the person's page: signed, so nothing needs storing."""
    return str(URLSafeSerializer(ctx.settings.secret_key, salt=PAGE_SALT).dumps(appointment_id))


def page_url(ctx: Context, appointment_id: str) -> str:
    return f"{ctx.settings.public_url}/a/{page_token(ctx, appointment_id)}"


def appointment_id_from_token(ctx: Context, token: str) -> str | None:
    try:
        value = URLSafeSerializer(ctx.settings.secret_key, salt=PAGE_SALT).loads(token)
    except Exception:  # itsdangerous raises several kinds for forged or mangled tokens
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Notice:
    """One message to build for an appointment."""

    purpose: str  # confirmation | reminder | change | cancellation
    channel: str
    send_at: datetime
    previous_starts_at: datetime | None = None


def notice_time(now: datetime, starts_at: datetime, center: Center) -> datetime:
    """Send at once, or when quiet hours end, if that is still before the appointment."""
    if not in_quiet_hours(now, center.timezone, center.quiet_hours):
        return now
    later = next_allowed_at(now, center.timezone, center.quiet_hours)
    return later if later < starts_at else now


def template_data(
    ctx: Context, appointment: Appointment, center: Center, locale: str, notice: Notice, link: str = ""
) -> dict[str, Any]:
    """What an appointment notice's template gets; ``link`` replaces the page's full URL (SMS)."""
    tz = center.timezone
    lang = "en" if locale.startswith("en") else "ko"
    values = {
        "kind": appointment.kind,
        "kind_label": KIND_LABELS[appointment.kind][lang],
        "when": format_datetime(appointment.starts_at, locale, tz),
        # ISO with the offset: what a template's filters format, e.g. the reminder's one-part SMS
        # (sms_short.txt) shows it as '12/3(수) 14:00' in the centre's zone.
        "starts_at": appointment.starts_at.isoformat(),
        "duration": format_duration_minutes(appointment.duration_minutes, locale),
        "location": appointment.location,
        "counselor": appointment.counselor,
        "link": (link or page_url(ctx, appointment.id)) if notice.purpose != "cancellation" else "",
    }
    if notice.previous_starts_at is not None:
        values["previous_when"] = format_datetime(notice.previous_starts_at, locale, tz)
    return {"appointment": values}


def calendar_file(
    ctx: Context,
    appointment: Appointment,
    center: Center,
    recipient: Recipient,
    *,
    cancel: bool,
    organizer_email: str,
) -> dict[str, str]:
    """An .ics attachment whose UID is stable, so calendars update instead of duplicating.

    Times are written in the centre's zone with its VTIMEZONE (RFC 5545 3.2.19: a TZID needs
    one), so no calendar reads them as floating times. SEQUENCE is the appointment's revision,
    which grows with every change and with the cancellation (RFC 5546 2.1.4).
    """
    english = recipient.locale.startswith("en")
    method = "CANCEL" if cancel else "REQUEST"
    cal = Calendar()
    cal.add("prodid", "-//notifier//appointments//KO")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", f"{appointment.id}@notifier")
    event.add("sequence", appointment.revision)
    event.add("dtstamp", ctx.clock().astimezone(UTC))
    starts_at = appointment.starts_at.astimezone(center.timezone)
    event.add("dtstart", starts_at)
    event.add("dtend", starts_at + timedelta(minutes=appointment.duration_minutes))
    phone = format_phone_kr(center.phone)
    event.add("summary", f"{KIND_LABELS[appointment.kind]['en' if english else 'ko']} - {center.name}")
    event.add("location", appointment.location)
    event.add(
        "description", f"Questions: {center.name}, {phone}" if english else f"{center.name} 문의 {phone}"
    )
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    event.add("organizer", f"mailto:{organizer_email}", parameters={"CN": center.name})
    if recipient.email:
        attendee = {"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"}
        if recipient.name:
            attendee["CN"] = recipient.name
        event.add("attendee", f"mailto:{recipient.email}", parameters=attendee)
    cal.add_component(event)
    cal.add_missing_timezones()
    return {
        "filename": "appointment.ics",
        "content_type": f"text/calendar; method={method}; charset=utf-8",  # Korean names and places
        "data": cal.to_ical().decode(),
    }


def build_rows(
    ctx: Context,
    conn: Connection,
    owner: str,
    appointment: Appointment,
    center: Center,
    recipient: Recipient,
    notices: list[Notice],
) -> list[dict[str, Any]]:
    """Render each notice into a message row tied to this revision of the appointment."""
    now = ctx.clock()
    rows = []
    for notice in notices:
        version = template_repo.get(conn, TEMPLATES[notice.purpose])
        if version is None:
            raise LookupError(f"template {TEMPLATES[notice.purpose]} is missing; run notifier db upgrade")
        # An SMS notice goes as AlimTalk (with its SMS fallback) where the centre has a KakaoTalk
        # channel and the template an AlimTalk variant, as ``auto`` does for a single message.
        channel = alimtalk_choice(ctx, "auto", notice.channel, center.identity(), version, recipient.locale)
        # An SMS (or AlimTalk) carries the short link (/s/{code}): 68 bytes shorter than /a/{token}.
        wants_link = channel in ("sms", "kakao") and notice.purpose != "cancellation"
        link = short_url(ctx, conn, appointment.id) if wants_link else ""
        data = template_data(ctx, appointment, center, recipient.locale, notice, link)
        context = template_context(center.identity(), recipient, data, center.timezone.key)
        rendered = render_for(ctx, version, channel, recipient.locale, context, may_fall_back=True)
        row = new_message_row(
            ctx,
            owner=owner,
            channel=rendered.channel,
            recipient=recipient,
            center=center.identity(),
            rendered=rendered,
            template_key=version.key,
            template_version=version.version,
            data=with_alimtalk(ctx, data, center.identity(), rendered),
            now=now,
            send_at=notice.send_at,
            reference=f"{REFERENCE_PREFIX}{appointment.external_id}",
            purpose=notice.purpose,
            expires_at=appointment.starts_at,
            appointment_id=appointment.id,
            appointment_revision=appointment.revision,
        )
        if notice.channel == "email" and notice.purpose in ("confirmation", "change", "cancellation"):
            cancel = notice.purpose == "cancellation"
            # The organizer is the address the email comes from: the row's sender.
            row["attachments"] = [
                calendar_file(
                    ctx, appointment, center, recipient, cancel=cancel, organizer_email=row["sender"]
                )
            ]
        rows.append(row)
    return rows
