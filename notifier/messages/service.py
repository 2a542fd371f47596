"""Single messages: accept one, send it exactly once, follow the provider's callbacks.

The database is the source of truth and the queue only a publisher: a row is committed
before its id is queued, a worker claims it with one conditional UPDATE before calling the
provider, and the scheduler finds anything the queue lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import RowMapping

from notifier.channels.base import Accepted, SmsRequest
from notifier.channels.email import Attachment, build_email
from notifier.config import TRANSACTIONAL_QUEUE
from notifier.context import Context
from notifier.domain.phones import format_phone_kr, parse_phone, require_mobile
from notifier.domain.status import TWILIO_STATUS, Status
from notifier.errors import (
    FieldError,
    InvalidPhoneNumber,
    NotFound,
    ProviderError,
    ValidationFailed,
)
from notifier.messages import intake
from notifier.messages import repository as repo
from notifier.messages.claims import claim_many
from notifier.messages.outcomes import TWILIO_ERROR_REASONS, Outcome, Outcomes
from notifier.messages.tables import idempotency_keys
from notifier.schemas import MAX_SCHEDULE_AHEAD, CenterIn, MessageIn
from notifier.templates import library as template_library
from notifier.templates.rendering import RenderedMessage

log = logging.getLogger("notifier.messages")


@dataclass(frozen=True)
class Recipient:
    phone: str | None
    email: str | None
    name: str
    locale: str


def resolve_channel(body: MessageIn) -> tuple[str, Recipient]:
    """Pick the channel and normalise the recipient; ``auto`` prefers SMS to a mobile."""
    phone = None
    if body.to.phone:
        try:
            phone = parse_phone(body.to.phone)
        except InvalidPhoneNumber as exc:
            raise InvalidPhoneNumber(body.to.phone, exc.reason, "/to/phone") from exc
    channel = body.channel
    if channel == "auto":
        channel = "sms" if phone is not None and phone.is_mobile else "email"
    if channel == "sms":
        if phone is None:
            raise ValidationFailed([FieldError("/to/phone", "a mobile number is required for SMS")])
        try:
            require_mobile(phone)
        except InvalidPhoneNumber as exc:
            raise InvalidPhoneNumber(body.to.phone or "", exc.reason, "/to/phone") from exc
    if channel == "email" and not body.to.email:
        pointer = "/to/email" if body.channel == "email" else "/to"
        raise ValidationFailed([FieldError(pointer, "an email address or a mobile number is required")])
    return channel, Recipient(
        phone=phone.e164 if phone else None,
        email=str(body.to.email) if body.to.email else None,
        name=body.to.name,
        locale=body.to.locale,
    )


def center_identity(ctx: Context, center: CenterIn | None) -> dict[str, str]:
    """The sender identity and call-back details a message carries."""
    from notifier.centers import service as centers

    raw = center.model_dump(exclude_none=True) if center else {}
    for field in ("phone", "sms_sender"):
        if raw.get(field):
            try:
                raw[field] = parse_phone(str(raw[field])).e164
            except InvalidPhoneNumber as exc:
                raise InvalidPhoneNumber(str(raw[field]), exc.reason, f"/center/{field}") from exc
    senders = {k: raw[k] for k in ("sms_sender", "email_sender") if raw.get(k)}
    if raw.get("code"):
        if senders:  # a centre sends only from what it registered (발신번호 사전등록)
            raise ValidationFailed(
                [
                    FieldError(f"/center/{k}", "set by the centre's registration, not per message")
                    for k in senders
                ]
            )
        registered = centers.get(ctx, raw["code"]).identity()
        raw = {**registered, **{k: v for k, v in raw.items() if k != "code"}}
    else:
        sms_ok, email_ok = centers.registered_senders(ctx)
        refused = [
            FieldError(f"/center/{k}", "not a registered sender; register it with the centre first")
            for k, v in senders.items()
            if (v if k == "sms_sender" else v.lower()) not in (sms_ok if k == "sms_sender" else email_ok)
        ]
        if refused:
            raise ValidationFailed(refused)
    return {k: str(v) for k, v in raw.items() if v is not None}


def template_context(center: dict[str, str], recipient: Recipient, data: dict[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "center": {
            "name": center.get("name", ""),
            "phone": format_phone_kr(center["phone"]) if center.get("phone") else "",
            "address": center.get("address", ""),
        },
        "recipient": {**(data.get("recipient") or {}), "name": recipient.name},
    }


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def accept_message(
    ctx: Context, owner: str, body: MessageIn, raw: Any, idempotency_key: str | None
) -> tuple[int, dict[str, Any]]:
    """Validate, render and store one message, then publish its id. Returns (status, body)."""
    with intake.writer(ctx).coming():
        return _accept(ctx, owner, body, raw, idempotency_key)


def _accept(
    ctx: Context, owner: str, body: MessageIn, raw: Any, idempotency_key: str | None
) -> tuple[int, dict[str, Any]]:
    digest = request_hash(raw)
    if idempotency_key:
        with ctx.engine.connect() as conn:
            replay = _idempotent_replay(conn, owner, idempotency_key, digest)
        if replay is not None:
            return replay
    channel, recipient = resolve_channel(body)
    center = center_identity(ctx, body.center)
    now = ctx.clock()
    version = template_library.find(ctx, body.template)
    if version is None:
        raise ValidationFailed([FieldError("/template", f"no template named {body.template!r}")])
    data = template_context(center, recipient, body.data)
    rendered = ctx.renderer.render(version, channel, recipient.locale, data)
    send_at = body.send_at or now
    if send_at - now > MAX_SCHEDULE_AHEAD:
        raise ValidationFailed([FieldError("/send_at", "must be within a year from now")])
    row = new_message_row(
        ctx,
        owner=owner,
        channel=channel,
        recipient=recipient,
        center=center,
        rendered=rendered,
        template_key=version.key,
        template_version=version.version,
        data=body.data,
        now=now,
        send_at=send_at,
        reference=body.reference,
    )
    response = message_view(row)
    record = None
    if idempotency_key:
        record = {
            "owner": owner,
            "key": idempotency_key,
            "request_hash": digest,
            "status_code": 202,
            "response": response,
            "created_at": now,
        }
    if not intake.writer(ctx).store(row, now, record):
        with ctx.engine.connect() as conn:  # a twin with the same key was stored first
            replay = _idempotent_replay(conn, owner, idempotency_key or "", digest)
        if replay is None:
            raise RuntimeError("an idempotency record vanished after a conflict")
        return replay
    return 202, response


def _idempotent_replay(
    conn: Connection, owner: str, key: str, digest: str
) -> tuple[int, dict[str, Any]] | None:
    found = (
        conn.execute(
            idempotency_keys.select().where(idempotency_keys.c.owner == owner, idempotency_keys.c.key == key)
        )
        .mappings()
        .first()
    )
    if found is None:
        return None
    if found["request_hash"] != digest:
        raise ValidationFailed(
            [FieldError("", "this Idempotency-Key was used with a different request body")],
            "Idempotency-Key reused with a different body",
        )
    return int(found["status_code"]), dict(found["response"])


def new_message_row(
    ctx: Context,
    *,
    owner: str,
    channel: str,
    recipient: Recipient,
    center: dict[str, str],
    rendered: RenderedMessage,
    template_key: str,
    template_version: int,
    data: dict[str, Any],
    now: datetime,
    send_at: datetime,
    reference: str | None = None,
    purpose: str = "message",
    category: str = "informational",
    lane: str = TRANSACTIONAL_QUEUE,
    expires_at: datetime | None = None,
    attachments: list[dict[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build the row for a rendered message; it is queued now or scheduled for later."""
    due = send_at <= now
    if channel == "sms":
        sender = center.get("sms_sender") or (
            ctx.settings.twilio.default_from if ctx.settings.twilio else center.get("phone", "sandbox")
        )
        if sender.startswith("0"):
            sender = parse_phone(sender).e164
    else:
        sender = center.get("email_sender") or ctx.settings.mail_from
    return {
        "id": str(uuid.uuid4()),
        "owner": owner,
        "template_key": template_key,
        "template_version": template_version,
        "channel": channel,
        "locale": rendered.locale,
        "purpose": purpose,
        "category": category,
        "lane": lane,
        "to_phone": recipient.phone if channel == "sms" else None,
        "to_email": recipient.email if channel == "email" else None,
        "to_name": recipient.name,
        "sender": sender,
        "center": center,
        "data": data,
        "subject": rendered.subject,
        "body": rendered.body,
        "html": rendered.html,
        "attachments": attachments,
        "segments": rendered.sms.segments if rendered.sms else None,
        "kr_class": rendered.sms.kr_class.value if rendered.sms and rendered.sms.kr_class else None,
        "status": (Status.QUEUED if due else Status.SCHEDULED).value,
        "reference": reference,
        "send_at": send_at,
        "expires_at": expires_at or send_at + ctx.settings.message_validity,
        "enqueued_at": now if due else None,
        "attempts": 0,
        "sandboxed": False,
        "created_at": now,
        "updated_at": now,
        **extra,
    }


# ---- sending -------------------------------------------------------------------------


def claim(ctx: Context, message_id: str) -> dict[str, Any] | None:
    """Move a queued message to ``sending``; return it only if this caller won the claim."""
    claimed = claim_many(ctx, [message_id])
    return claimed[0] if claimed else None


def status_callback_url(ctx: Context, message_id: str) -> str:
    return f"{ctx.settings.public_url}/webhooks/twilio/status?message_id={message_id}"


def send_sms(ctx: Context, row: Mapping[str, Any]) -> Accepted:
    request = SmsRequest(
        message_id=row["id"],
        to=row["to_phone"],
        sender=row["sender"],
        body=row["body"],
        status_callback=None if ctx.sms_sandboxed else status_callback_url(ctx, row["id"]),
    )
    return ctx.sms.send(request)


def email_for(ctx: Context, row: Mapping[str, Any]) -> Any:
    center = row["center"] or {}
    return build_email(
        message_id=row["id"],
        sender=row["sender"],
        sender_name=center.get("name", ""),
        to=row["to_email"],
        to_name=row["to_name"],
        subject=row["subject"] or "",
        text=row["body"] or "",
        html=row["html"],
        now=ctx.clock(),
        reply_to=center.get("reply_to"),
        headers=service_headers(row["data"]),
        attachments=[
            Attachment(a["filename"], a["content_type"], a["data"].encode()) for a in row["attachments"] or ()
        ],
    )


SERVICE_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def service_headers(data: dict[str, Any] | None) -> dict[str, str]:
    """Headers the service itself set on a message (never a client's): the unsubscribe pair."""
    given = (data or {}).get("_headers") or {}
    return {name: str(given[name]) for name in SERVICE_HEADERS if isinstance(given, dict) and name in given}


def deliver(ctx: Context, message_id: str) -> Outcome:
    """Send one message at most once. Safe to call any number of times for the same id."""
    row = claim(ctx, message_id)
    if row is None:
        return Outcome("skipped")
    try:
        if row["channel"] == "sms":
            accepted = send_sms(ctx, row)
        else:
            email = build_or_fail(ctx, row)
            if email is None:
                return Outcome(Status.FAILED.value)
            with ctx.email.batch() as batch:
                accepted = batch.send(row["id"], email)
    except ProviderError as error:
        return record_failure(ctx, row, error)
    record_accepted(ctx, row["id"], accepted, claimed_at=row["claimed_at"])
    return Outcome(Status.SENT.value)


def build_or_fail(ctx: Context, row: Mapping[str, Any]) -> Any:
    """Build the email, or fail the message for good if its stored content cannot make one."""
    try:
        return email_for(ctx, row)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        record_failure(ctx, row, ProviderError(False, "build_error", f"{type(exc).__name__}: {exc}", "email"))
        return None


def record_accepted(
    ctx: Context, message_id: str, accepted: Accepted, claimed_at: datetime | None = None
) -> None:
    """Record that the provider took the message, if the claim is still this worker's."""
    outcomes = Outcomes(ctx)
    outcomes.accepted({"id": message_id, "claimed_at": claimed_at}, accepted)
    outcomes.record()


def record_failure(ctx: Context, row: Mapping[str, Any], error: ProviderError) -> Outcome:
    """Retry later, fail for good, or (outcome unknown) leave it to recovery to ask the provider."""
    outcomes = Outcomes(ctx)
    outcome = outcomes.failed(row, error)
    outcomes.record()
    return outcome


# ---- provider callbacks --------------------------------------------------------------


def apply_twilio_status(ctx: Context, message_id: str | None, params: dict[str, str]) -> bool:
    """Apply one Twilio status callback; a late or backwards status is ignored."""
    new = TWILIO_STATUS.get(params.get("MessageStatus", ""))
    if new is None:
        return False
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        row = repo.get(conn, message_id) if message_id else repo.find_by_provider_id(conn, sid)
        if row is None or (row["provider_message_id"] and sid and row["provider_message_id"] != sid):
            return False
        fields: dict[str, Any] = {
            "provider_message_id": sid or row["provider_message_id"],
            "provider": "twilio",
        }
        if new is Status.FAILED:
            code = params.get("ErrorCode") or "undelivered"
            fields.update(
                error_code=code, error_reason=TWILIO_ERROR_REASONS.get(code, params.get("MessageStatus"))
            )
        return repo.transition(
            conn, row["id"], new, now, detail=f"twilio: {params.get('MessageStatus')}", **fields
        )


# ---- reading -------------------------------------------------------------------------


def get_message(ctx: Context, owner: str, message_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = repo.get(conn, message_id)
        if row is None or row["owner"] != owner:
            raise NotFound(f"no message {message_id}")
        return message_view(row, repo.history(conn, message_id))


def message_view(row: Any, history: list[RowMapping] | None = None) -> dict[str, Any]:
    """The public JSON shape of a message."""
    view: dict[str, Any] = {
        "id": row["id"],
        "status": row["status"],
        "channel": row["channel"],
        "purpose": row["purpose"],
        "template": {"key": row["template_key"], "version": row["template_version"]},
        "to": {"phone": row["to_phone"], "email": row["to_email"], "name": row["to_name"]},
        "locale": row["locale"],
        "reference": row["reference"],
        "send_at": _iso(row["send_at"]),
        "created_at": _iso(row["created_at"]),
        "segments": row["segments"],
        "kr_class": row["kr_class"],
        "sandboxed": bool(row["sandboxed"]),
        "provider_message_id": row.get("provider_message_id"),
        "error": (
            {"code": row["error_code"], "reason": row["error_reason"]}
            if row.get("error_code") and row["status"] == Status.FAILED.value
            else None
        ),
    }
    if history is not None:
        view["history"] = [
            {"status": h["status"], "at": _iso(h["at"]), "detail": h["detail"]} for h in history
        ]
    return view


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def list_messages(
    ctx: Context, owner: str, *, status: str | None, reference: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    after = decode_cursor(cursor) if cursor else None
    with ctx.engine.connect() as conn:
        rows = repo.page(conn, owner, status=status, reference=reference, limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None
    return {"items": [message_view(r) for r in rows], "next_cursor": next_cursor}


def encode_cursor(created: datetime, message_id: str) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{created.isoformat()}|{message_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    import base64

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, message_id = raw.split("|", 1)
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError("naive time in cursor")
        return when, message_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed([FieldError("/cursor", "not a cursor this API returned")]) from exc
