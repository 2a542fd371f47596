"""Appointments: booking events in; confirmations, reminders, changes and cancellations out.

Every accepted change happens in one transaction that locks the appointment row, bumps its
``revision``, cancels every message of the old revision still pending, and schedules the new
ones. Each message remembers the revision it was made for; the claim re-checks it (under a
share lock on the appointment row, ``claim_check``), so a reminder for a time that is no longer
true is never handed to a provider once the change is committed, even if a worker had already
picked it up. The decisions are pure functions in ``rules``; the SQL is in ``repository``.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from notifier.appointments import claim_check, repository, retention, rules
from notifier.appointments.appointment import Appointment
from notifier.appointments.notices import Notice, build_rows, notice_time
from notifier.appointments.views import AppointmentList, view, view_model
from notifier.centers import service as centers
from notifier.context import Context
from notifier.domain.appointment_status import AppointmentStatus, can_move
from notifier.domain.message_status import Status
from notifier.domain.phones import parse_phone
from notifier.domain.reminders import parse_offsets, plan_name
from notifier.errors import Conflict, FieldError, InvalidPhoneNumber, NotFound, ValidationFailed
from notifier.messages import repository as message_repo
from notifier.messages.accept import Recipient, request_hash
from notifier.messages.publisher import publish
from notifier.schemas import AppointmentIn


def resolve_recipient(body: AppointmentIn) -> tuple[list[str], Recipient]:
    """Normalise the person's contacts and pick channels: SMS to a mobile, else email."""
    phone = None
    if body.recipient.phone:
        try:
            phone = parse_phone(body.recipient.phone)
        except InvalidPhoneNumber as exc:
            raise InvalidPhoneNumber(body.recipient.phone, exc.reason, "/recipient/phone") from exc
    mobile = phone.e164 if phone is not None and phone.is_mobile else None
    email = str(body.recipient.email) if body.recipient.email else None
    channels = list(dict.fromkeys(body.channels or (["sms"] if mobile else ["email"] if email else [])))
    errors = []
    if not channels and phone is not None:
        errors.append(
            FieldError("/recipient/phone", "not a mobile number; give a mobile number or an email address")
        )
    elif not channels:
        errors.append(FieldError("/recipient", "a mobile number or an email address is required"))
    if "sms" in channels and mobile is None:
        reason = "SMS needs a mobile number" + (" (this one is a landline)" if phone else "")
        errors.append(FieldError("/recipient/phone", reason))
    if "email" in channels and email is None:
        errors.append(FieldError("/recipient/email", "email needs an address"))
    if errors:
        raise ValidationFailed(errors)
    return channels, Recipient(mobile, email, body.recipient.name, body.recipient.locale)


def put_appointment(
    ctx: Context, owner: str, external_id: str, body: AppointmentIn, raw: Any
) -> tuple[int, dict[str, Any]]:
    """Create or replace an appointment; returns (201 or 200, the appointment with messages)."""
    digest = request_hash(raw)
    center = centers.get(ctx, body.center, "/center")
    channels, recipient = resolve_recipient(body)
    now = ctx.clock()
    try:
        with ctx.engine.begin() as conn:
            existing = repository.lock(conn, owner, external_id)
            if existing is not None and existing.request_hash == digest:
                # An identical replay changes nothing.
                return 200, view(ctx, conn, repository.row(conn, existing.id))
            if body.starts_at <= now:
                raise ValidationFailed([FieldError("/starts_at", "must be in the future")])
            if existing is None:
                status = 201
                notices, appointment = _create(
                    ctx, conn, owner, external_id, body, digest, channels, center, now
                )
                replan = True
            else:
                status = 200
                notices, appointment, replan = _change(conn, existing, body, digest, channels, center, now)
            appointment_rows = _notices_and_reminders(
                ctx, conn, appointment, center, recipient, notices, replan, now
            )
            message_repo.insert_many(conn, appointment_rows, now)
            result = view(ctx, conn, repository.row(conn, appointment.id))
    except IntegrityError as exc:  # two first bookings of one id raced; the other one won
        raise Conflict(f"appointment {external_id!r} was booked concurrently; retry") from exc
    publish(ctx, "transactional", [r["id"] for r in appointment_rows if r["status"] == Status.QUEUED.value])
    return status, result


def _from_booking(body: AppointmentIn, channels: list[str]) -> dict[str, Any]:
    """The fields the booking system sends, as the appointment stores them."""
    return {
        "recipient": body.recipient.model_dump(mode="json"),
        "center_code": body.center,
        "kind": body.kind,
        "starts_at": body.starts_at,
        "duration_minutes": body.duration_minutes,
        "counselor": body.counselor,
        "location": body.location,
        "channels": channels,
    }


def _create(
    ctx: Context,
    conn: Connection,
    owner: str,
    external_id: str,
    body: AppointmentIn,
    digest: str,
    channels: list[str],
    center: centers.Center,
    now: datetime,
) -> tuple[list[Notice], Appointment]:
    appointment_id = str(uuid.uuid4())
    # A running experiment of the centre assigns the appointment an arm, for good.
    arm = (
        ctx.assign_reminder_plan(conn, appointment_id, body.center, now) if ctx.assign_reminder_plan else None
    )
    appointment = Appointment(
        id=appointment_id,
        owner=owner,
        external_id=external_id,
        version=body.version,
        revision=1,
        request_hash=digest,
        status=AppointmentStatus.BOOKED,
        **_from_booking(body, channels),
        reminder_plan=[],
        created_at=now,
        updated_at=now,
        experiment_id=arm[0] if arm else None,
        experiment_arm=arm[1] if arm else None,
    )
    repository.insert(conn, appointment)
    send_at = notice_time(now, body.starts_at, center)
    return [Notice("confirmation", ch, send_at) for ch in channels], appointment


def _change(
    conn: Connection,
    existing: Appointment,
    body: AppointmentIn,
    digest: str,
    channels: list[str],
    center: centers.Center,
    now: datetime,
) -> tuple[list[Notice], Appointment, bool]:
    rules.check_changeable(existing, body.version)
    changed = replace(
        existing,
        **_from_booking(body, channels),
        version=body.version if body.version is not None else existing.version,
        revision=existing.revision + 1,
        request_hash=digest,
        updated_at=now,
    )
    changed = rules.answer_after_change(existing, changed)
    if rules.shows_the_same(existing, changed):
        # Nothing the person sees changed (e.g. only the booking system's version moved on).
        unchanged = replace(existing, request_hash=digest, version=changed.version)
        repository.save_change(conn, unchanged)
        return [], unchanged, False
    detail = f"appointment changed (revision {changed.revision})"
    cancelled = repository.cancel_pending_messages(conn, existing.id, now, detail)
    repository.save_change(conn, changed)
    purpose = rules.notice_after_change(existing, changed, cancelled)
    send_at = notice_time(now, body.starts_at, center)
    if purpose == "change":
        notices = [Notice("change", ch, send_at, previous_starts_at=existing.starts_at) for ch in channels]
    elif purpose is not None:
        notices = [Notice(purpose, ch, send_at) for ch in channels]
    else:
        notices = []
    return notices, changed, True


def _notices_and_reminders(
    ctx: Context,
    conn: Connection,
    appointment: Appointment,
    center: centers.Center,
    recipient: Recipient,
    notices: list[Notice],
    replan: bool,
    now: datetime,
) -> list[dict[str, Any]]:
    """The message rows of the notices and, after a visible change, of the new reminder plan."""
    if replan:
        # An experiment's arm keeps its plan when the appointment moves; others follow the centre's.
        offsets = (
            parse_offsets(appointment.experiment_arm)
            if appointment.experiment_arm is not None
            else center.reminder_offsets
        )
        notice_at = min((n.send_at for n in notices), default=now)
        plan = rules.reminder_plan(
            appointment.starts_at, offsets, center.timezone, center.quiet_hours, now, notice_at
        )
        for entry in plan:
            if entry.send_at is not None:
                notices = [*notices, *(Notice("reminder", ch, entry.send_at) for ch in appointment.channels)]
        repository.save_reminder_plan(
            conn, appointment.id, [entry.stored() for entry in plan], plan_name(offsets)
        )
    return build_rows(ctx, conn, appointment.owner, appointment, center, recipient, notices)


def cancel_appointment(ctx: Context, owner: str, external_id: str) -> dict[str, Any]:
    """Cancel: pending messages cancelled, one cancellation notice. Repeating it sends nothing."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        existing = repository.lock(conn, owner, external_id)
        if existing is None:
            raise NotFound(f"no appointment {external_id!r}")
        rows: list[dict[str, Any]] = []
        if can_move(existing.status, AppointmentStatus.CANCELLED):
            repository.cancel_pending_messages(conn, existing.id, now, "appointment cancelled")
            appointment = repository.cancel(conn, existing, now)
            if existing.starts_at > now:
                center = centers.get(ctx, existing.center_code, "/center")
                send_at = notice_time(now, existing.starts_at, center)
                notices = [Notice("cancellation", ch, send_at) for ch in existing.channels]
                rows = build_rows(ctx, conn, owner, appointment, center, _recipient_of(existing), notices)
                message_repo.insert_many(conn, rows, now)
        result = view(ctx, conn, repository.row(conn, existing.id))
    publish(ctx, "transactional", [r["id"] for r in rows if r["status"] == Status.QUEUED.value])
    return result


def _recipient_of(appointment: Appointment) -> Recipient:
    raw = appointment.recipient
    phone = parse_phone(raw["phone"]).e164 if raw.get("phone") else None
    return Recipient(phone, raw.get("email"), raw.get("name", ""), raw.get("locale", "ko"))


def get_appointment(ctx: Context, owner: str, external_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = repository.find_row(conn, owner, external_id)
        if row is None:
            raise NotFound(f"no appointment {external_id!r}")
        return view(ctx, conn, row)


def list_appointments(
    ctx: Context, owner: str, center: str | None, start: datetime | None, end: datetime | None, limit: int
) -> dict[str, Any]:
    query = repository.listing_query(owner, center, start, end, limit)
    with ctx.engine.connect() as conn:
        items = [view_model(ctx, conn, r, with_messages=False) for r in conn.execute(query).mappings()]
    return AppointmentList(items=items).dump()


def register(ctx: Context) -> None:
    ctx.claim_checks.append(functools.partial(claim_check.check, ctx))
    ctx.erase_hooks.append(repository.erase_person)
    ctx.tick_hooks.append(retention.blank_old_contacts)
