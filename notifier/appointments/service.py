"""Appointments: booking events in; confirmations, reminders, changes and cancellations out.

Every accepted change happens in one transaction that locks the appointment row, bumps its
``revision``, cancels every message of the old revision still pending, and schedules the new
ones. Each message remembers the revision it was made for; the claim re-checks it (under a
share lock on the appointment row), so a reminder for a time that is no longer true is never
handed to a provider once the change is committed, even if a worker had already picked it up.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection, and_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from notifier.appointments.notices import Notice, build_rows, notice_time, page_url
from notifier.appointments.tables import appointments
from notifier.centers import service as centers
from notifier.context import Context
from notifier.domain.phones import parse_phone
from notifier.domain.quiet_hours import in_quiet_hours
from notifier.domain.reminders import plan_reminders
from notifier.domain.status import PENDING, Status
from notifier.errors import Conflict, FieldError, InvalidPhoneNumber, NotFound, ValidationFailed
from notifier.messages import repository as message_repo
from notifier.messages.accept import Recipient, request_hash
from notifier.messages.publisher import publish
from notifier.messages.tables import messages
from notifier.responses import ResponseModel, Timestamp
from notifier.schemas import AppointmentIn

BOOKED, CANCELLED = "booked", "cancelled"
MAX_REMINDER_GAP = timedelta(minutes=30)
SHOWN_FIELDS = ("kind", "starts_at", "duration_minutes", "counselor", "location", "recipient", "channels")


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


def min_gap(offsets: tuple[timedelta, ...]) -> timedelta:
    """Reminders closer than this to one another (or to the notice) are pointless."""
    return min([MAX_REMINDER_GAP, *(o / 2 for o in offsets)])


def reminder_plan(ctx: Context, center: centers.Center, starts_at: datetime) -> list[dict[str, Any]]:
    now = ctx.clock()
    gap = min_gap(center.reminder_offsets)
    plan = []
    for planned in plan_reminders(
        starts_at, center.reminder_offsets, now, center.timezone, center.quiet_hours, gap
    ):
        outcome, note, send_at = str(planned.outcome), planned.note, planned.send_at
        if send_at is not None and send_at - now < gap:
            outcome, note, send_at = "dropped_too_close", "it would arrive right after the notice", None
        plan.append(
            {
                "offset_seconds": int(planned.offset.total_seconds()),
                "outcome": outcome,
                "send_at": send_at,
                "note": note,
            }
        )
    return plan


def _locked(conn: Connection, owner: str, external_id: str) -> RowMapping | None:
    query = select(appointments).where(
        appointments.c.owner == owner, appointments.c.external_id == external_id
    )
    return conn.execute(query.with_for_update()).mappings().first()


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
            existing = _locked(conn, owner, external_id)
            if existing is not None and existing["request_hash"] == digest:
                return 200, view(ctx, conn, existing)  # an identical replay changes nothing
            if body.starts_at <= now:
                raise ValidationFailed([FieldError("/starts_at", "must be in the future")])
            if existing is None:
                status = 201
                notices, appointment = _create(ctx, conn, owner, external_id, body, digest, center)
                replan = True
            else:
                status = 200
                notices, appointment, replan = _change(ctx, conn, existing, body, digest, center)
            appointment_rows = _notices_and_reminders(
                ctx, conn, owner, appointment, center, recipient, channels, notices, replan
            )
            message_repo.insert_many(conn, appointment_rows, now)
            result = view(ctx, conn, _reload(conn, appointment["id"]))
    except IntegrityError as exc:  # two first bookings of one id raced; the other one won
        raise Conflict(f"appointment {external_id!r} was booked concurrently; retry") from exc
    publish(ctx, "transactional", [r["id"] for r in appointment_rows if r["status"] == Status.QUEUED.value])
    return status, result


def _appointment_values(
    body: AppointmentIn, recipient_raw: dict[str, Any], channels: list[str]
) -> dict[str, Any]:
    return {
        "recipient": recipient_raw,
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
    center: Any,
) -> tuple[list[Notice], dict[str, Any]]:
    now = ctx.clock()
    channels, _ = resolve_recipient(body)
    values = {
        "id": str(uuid.uuid4()),
        "owner": owner,
        "external_id": external_id,
        "version": body.version,
        "revision": 1,
        "request_hash": digest,
        "status": BOOKED,
        **_appointment_values(body, body.recipient.model_dump(mode="json"), channels),
        "reminder_plan": [],
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(appointments.insert().values(**values))
    send_at = notice_time(now, body.starts_at, center)
    return [Notice("confirmation", ch, send_at) for ch in channels], values


def _change(
    ctx: Context, conn: Connection, existing: RowMapping, body: AppointmentIn, digest: str, center: Any
) -> tuple[list[Notice], dict[str, Any], bool]:
    now = ctx.clock()
    if existing["status"] == CANCELLED:
        raise Conflict("this appointment was cancelled; book a new one with a new id")
    if existing["version"] is not None and body.version is None:
        raise Conflict("this appointment is versioned; send a newer version with every change")
    if body.version is not None and existing["version"] is not None and body.version <= existing["version"]:
        raise Conflict(f"version {body.version} is not newer than the stored version {existing['version']}")
    channels, _ = resolve_recipient(body)
    values = {
        **_appointment_values(body, body.recipient.model_dump(mode="json"), channels),
        "version": body.version if body.version is not None else existing["version"],
        "revision": existing["revision"] + 1,
        "request_hash": digest,
        "updated_at": now,
    }
    if all(values[f] == existing[f] for f in SHOWN_FIELDS):
        # Nothing the person sees changed (e.g. only the booking system's version moved on).
        unchanged = {"request_hash": digest, "version": values["version"]}
        conn.execute(update(appointments).where(appointments.c.id == existing["id"]).values(**unchanged))
        return [], {**existing, **unchanged}, False
    cancelled = cancel_pending(
        ctx, conn, existing["id"], f"appointment changed (revision {values['revision']})"
    )
    conn.execute(update(appointments).where(appointments.c.id == existing["id"]).values(**values))
    moved = existing["starts_at"] != body.starts_at or existing["location"] != body.location
    send_at = notice_time(now, body.starts_at, center)
    if "confirmation" in cancelled:  # the person never heard of the old booking: confirm the new one
        notices = [Notice("confirmation", ch, send_at) for ch in channels]
    elif moved:
        notices = [Notice("change", ch, send_at, previous_starts_at=existing["starts_at"]) for ch in channels]
    else:
        notices = []
    return notices, {**existing, **values}, True


def _notices_and_reminders(
    ctx: Context,
    conn: Connection,
    owner: str,
    appointment: dict[str, Any],
    center: Any,
    recipient: Recipient,
    channels: list[str],
    notices: list[Notice],
    replan: bool,
) -> list[dict[str, Any]]:
    if not replan:
        return build_rows(ctx, conn, owner, appointment, center, recipient, notices)
    plan = reminder_plan(ctx, center, appointment["starts_at"])
    for item in plan:
        if item["send_at"] is not None:
            notices = [*notices, *(Notice("reminder", ch, item["send_at"]) for ch in channels)]
    stored_plan = [{**p, "send_at": p["send_at"].isoformat() if p["send_at"] else None} for p in plan]
    conn.execute(
        update(appointments).where(appointments.c.id == appointment["id"]).values(reminder_plan=stored_plan)
    )
    return build_rows(ctx, conn, owner, appointment, center, recipient, notices)


def cancel_pending(ctx: Context, conn: Connection, appointment_id: str, detail: str) -> list[str]:
    """Cancel every message of the appointment not yet handed to a provider; return their purposes."""
    pending = and_(
        messages.c.appointment_id == appointment_id, messages.c.status.in_([s.value for s in PENDING])
    )
    purposes = [r[0] for r in conn.execute(select(messages.c.purpose).where(pending))]
    message_repo.transition_many(conn, pending, Status.CANCELLED, ctx.clock(), detail=detail)
    return purposes


def cancel_appointment(ctx: Context, owner: str, external_id: str) -> dict[str, Any]:
    """Cancel: pending messages cancelled, one cancellation notice. Repeating it sends nothing."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        existing = _locked(conn, owner, external_id)
        if existing is None:
            raise NotFound(f"no appointment {external_id!r}")
        rows: list[dict[str, Any]] = []
        if existing["status"] != CANCELLED:
            cancel_pending(ctx, conn, existing["id"], "appointment cancelled")
            revision = existing["revision"] + 1
            conn.execute(
                update(appointments)
                .where(appointments.c.id == existing["id"])
                .values(status=CANCELLED, cancelled_at=now, updated_at=now, revision=revision)
            )
            if existing["starts_at"] > now:
                center = centers.get(ctx, existing["center_code"], "/center")
                appointment = {**existing, "revision": revision, "status": CANCELLED}
                recipient = _recipient_of(existing)
                send_at = notice_time(now, existing["starts_at"], center)
                notices = [Notice("cancellation", ch, send_at) for ch in existing["channels"]]
                rows = build_rows(ctx, conn, owner, appointment, center, recipient, notices)
                message_repo.insert_many(conn, rows, now)
        result = view(ctx, conn, _reload(conn, existing["id"]))
    publish(ctx, "transactional", [r["id"] for r in rows if r["status"] == Status.QUEUED.value])
    return result


def _recipient_of(row: RowMapping | dict[str, Any]) -> Recipient:
    raw = row["recipient"]
    phone = parse_phone(raw["phone"]).e164 if raw.get("phone") else None
    return Recipient(phone, raw.get("email"), raw.get("name", ""), raw.get("locale", "ko"))


def _reload(conn: Connection, appointment_id: str) -> RowMapping:
    return conn.execute(select(appointments).where(appointments.c.id == appointment_id)).mappings().one()


def get_appointment(ctx: Context, owner: str, external_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = (
            conn.execute(
                select(appointments).where(
                    appointments.c.owner == owner, appointments.c.external_id == external_id
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no appointment {external_id!r}")
        return view(ctx, conn, row)


def list_appointments(
    ctx: Context, owner: str, center: str | None, start: datetime | None, end: datetime | None, limit: int
) -> dict[str, Any]:
    query = select(appointments).where(appointments.c.owner == owner)
    if center:
        query = query.where(appointments.c.center_code == center)
    if start:
        query = query.where(appointments.c.starts_at >= start)
    if end:
        query = query.where(appointments.c.starts_at < end)
    query = query.order_by(appointments.c.starts_at, appointments.c.id).limit(limit)
    with ctx.engine.connect() as conn:
        items = [view_model(ctx, conn, r, with_messages=False) for r in conn.execute(query).mappings()]
    return AppointmentList(items=items).dump()


class PlannedReminderView(ResponseModel):
    offset_seconds: int
    outcome: Literal[
        "scheduled", "moved_for_quiet_hours", "dropped_past", "dropped_quiet_hours", "dropped_too_close"
    ]
    send_at: str | None = Field(json_schema_extra={"format": "date-time"})
    note: str | None = None


class AppointmentMessage(ResponseModel):
    id: str
    purpose: Literal["confirmation", "reminder", "change", "cancellation"]
    channel: Literal["sms", "email"]
    status: Status
    send_at: Timestamp | None


class Appointment(ResponseModel):
    """An appointment; ``messages`` only when one appointment is asked for."""

    id: str
    external_id: str
    status: Literal["booked", "cancelled"]
    version: int | None = Field(description="the booking system's version")
    revision: int = Field(description="ours: +1 on every accepted change")
    recipient: dict[str, Any]
    center: str
    kind: str
    starts_at: Timestamp
    ends_at: Timestamp
    duration_minutes: int
    counselor: str
    location: str
    channels: list[Literal["sms", "email"]]
    attendance: Literal["confirmed", "change_requested"] | None
    page_url: str = Field(description="the person's page: confirm or ask for a change")
    reminders: list[PlannedReminderView] = Field(
        description="the reminder plan, including reminders moved for quiet hours or dropped"
    )
    created_at: Timestamp
    updated_at: Timestamp
    messages: list[AppointmentMessage] = Field(default_factory=list)


class AppointmentList(ResponseModel):
    items: list[Appointment]


def view(
    ctx: Context, conn: Connection, row: RowMapping | dict[str, Any], with_messages: bool = True
) -> dict[str, Any]:
    """The public JSON shape of an appointment."""
    return view_model(ctx, conn, row, with_messages).dump()


def view_model(
    ctx: Context, conn: Connection, row: RowMapping | dict[str, Any], with_messages: bool = True
) -> Appointment:
    """The appointment as its response model; with its messages unless ``with_messages`` is False."""
    fields: dict[str, Any] = dict(
        id=row["id"],
        external_id=row["external_id"],
        status=row["status"],
        version=row["version"],
        revision=row["revision"],
        recipient=row["recipient"],
        center=row["center_code"],
        kind=row["kind"],
        starts_at=row["starts_at"],
        ends_at=row["starts_at"] + timedelta(minutes=row["duration_minutes"]),
        duration_minutes=row["duration_minutes"],
        counselor=row["counselor"],
        location=row["location"],
        channels=row["channels"],
        attendance=row["attendance"],
        page_url=page_url(ctx, row["id"]),
        reminders=row["reminder_plan"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
    if with_messages:
        query = (
            select(messages)
            .where(messages.c.appointment_id == row["id"])
            .order_by(messages.c.created_at, messages.c.send_at)
        )
        fields["messages"] = [
            AppointmentMessage(
                id=m["id"],
                purpose=m["purpose"],
                channel=m["channel"],
                status=m["status"],
                send_at=m["send_at"],
            )
            for m in conn.execute(query).mappings()
        ]
    return Appointment(**fields)


def still_true(
    ctx: Context, conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, tuple[Status, str]]:
    """The claim check: a message for an old revision, or for a past appointment, is not sent.

    One query (a shared lock on the appointments, so none changes while the claim commits) for
    all ``rows``; the verdict for each message that may not go out.
    """
    wanted = sorted({row["appointment_id"] for row in rows if row["appointment_id"] is not None})
    if not wanted:
        return {}
    query = select(
        appointments.c.id,
        appointments.c.revision,
        appointments.c.status,
        appointments.c.starts_at,
        appointments.c.center_code,
    ).where(appointments.c.id.in_(wanted))
    current = {a["id"]: a for a in conn.execute(query.with_for_update(read=True)).mappings()}
    found_centers: dict[str, centers.Center | None] = {}
    verdicts: dict[str, tuple[Status, str]] = {}
    for row in rows:
        if row["appointment_id"] is None:
            continue
        appointment = current.get(row["appointment_id"])
        if appointment is None:
            verdicts[row["id"]] = (Status.CANCELLED, "appointment no longer exists")
        elif appointment["revision"] != row["appointment_version"]:
            detail = f"appointment changed (now revision {appointment['revision']})"
            verdicts[row["id"]] = (Status.CANCELLED, detail)
        elif now >= appointment["starts_at"]:
            verdicts[row["id"]] = (Status.EXPIRED, "the appointment has already started")
        elif row["purpose"] == "reminder":
            code = appointment["center_code"]
            if code not in found_centers:
                found_centers[code] = centers.find(ctx, conn, code)
            center = found_centers[code]
            if center is not None and in_quiet_hours(now, center.timezone, center.quiet_hours):
                # A late retry or a backlog: too late to move it earlier, pointless in the morning.
                verdicts[row["id"]] = (Status.EXPIRED, "a reminder due now would arrive in quiet hours")
    return verdicts


def register(ctx: Context) -> None:
    ctx.claim_checks.append(functools.partial(still_true, ctx))
