"""Accepting one message: validate, resolve the recipient and sender, render, store, publish."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from notifier.config import TRANSACTIONAL_QUEUE
from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.domain.phones import format_phone_kr, parse_phone, require_mobile
from notifier.domain.quiet_hours import next_allowed_at
from notifier.domain.templates import ANNOUNCEMENT, TemplateVersion
from notifier.errors import (
    FieldError,
    InvalidPhoneNumber,
    ValidationFailed,
)
from notifier.messages import intake
from notifier.messages.model import ALIMTALK_KEY
from notifier.messages.tables import idempotency_keys
from notifier.messages.views import message_view
from notifier.schemas import MAX_SCHEDULE_AHEAD, CenterIn, MessageIn
from notifier.templates import library as template_library
from notifier.templates.display_filters import DEFAULT_ZONE, ZONE_KEY
from notifier.templates.rendering import RenderedMessage

URGENT = "urgent: goes even in quiet hours, as the client asked"
ANNOUNCEMENTS_AS_CAMPAIGNS = (
    "announcements are sent as campaigns (POST /v1/campaigns), which check consent, opt-outs and quiet hours"
)


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
    if channel in ("sms", "kakao"):
        if phone is None:
            raise ValidationFailed([FieldError("/to/phone", "a mobile number is required for SMS")])
        try:
            require_mobile(phone)
        except InvalidPhoneNumber as exc:
            raise InvalidPhoneNumber(body.to.phone or "", exc.reason, "/to/phone") from exc
    if channel == "email" and not body.to.email:
        if body.channel == "email":
            raise ValidationFailed([FieldError("/to/email", "an email address is required for email")])
        if phone is not None:  # auto with a landline: SMS cannot reach it, and there is no email
            reason = (
                f"{phone.national} is not a mobile number, so it cannot receive SMS; "
                "give a mobile number or an email address"
            )
            raise InvalidPhoneNumber(body.to.phone or "", reason, "/to/phone")
        raise ValidationFailed([FieldError("/to", "give a mobile number or an email address")])
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


def center_zone(ctx: Context, center: dict[str, str]) -> str | None:
    """The time zone of the registered centre a message is sent for, if it is one."""
    from notifier.centers import service as centers

    if not center.get("code"):
        return None
    try:
        return centers.get(ctx, center["code"]).timezone.key
    except ValidationFailed:  # removed since the message was made: the default zone
        return None


def template_context(
    center: dict[str, str], recipient: Recipient, data: dict[str, Any], zone: str | None = None
) -> dict[str, Any]:
    """What a template sees: the client's values, the centre, the recipient, the display zone."""
    return {
        **data,
        ZONE_KEY: zone or DEFAULT_ZONE,
        "center": {
            "name": center.get("name", ""),
            "phone": format_phone_kr(center["phone"]) if center.get("phone") else "",
            "address": center.get("address", ""),
            "reply_to": center.get("reply_to", ""),  # the footer says how to reply when there is one
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
    refuse_announcement(version)
    channel = alimtalk_choice(ctx, body.channel, channel, center, version, recipient.locale)
    data = template_context(center, recipient, body.data, center_zone(ctx, center))
    rendered = render_for(ctx, version, channel, recipient.locale, data, may_fall_back=body.channel == "auto")
    channel = rendered.channel  # an AlimTalk ``auto`` could not make goes as SMS
    send_at = body.send_at or now
    if send_at - now > MAX_SCHEDULE_AHEAD:
        raise ValidationFailed([FieldError("/send_at", "must be within a year from now")])
    validity = ctx.settings.message_validity
    if now - send_at >= validity:  # it would be stored only to expire unsent
        hours = round(validity.total_seconds() / 3600)
        reason = f"has passed: a message goes out within {hours} hours of its send_at or not at all"
        raise ValidationFailed([FieldError("/send_at", reason)])
    send_at, detail = _after_quiet_hours(ctx, center, send_at, now, urgent=body.urgent)
    row = new_message_row(
        ctx,
        owner=owner,
        channel=channel,
        recipient=recipient,
        center=center,
        rendered=rendered,
        template_key=version.key,
        template_version=version.version,
        data=with_alimtalk(ctx, body.data, center, rendered),
        now=now,
        send_at=send_at,
        reference=body.reference,
    )
    _check_sender(ctx, row)
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
    if not intake.writer(ctx).store(row, now, record, detail):
        with ctx.engine.connect() as conn:  # a twin with the same key was stored first
            replay = _idempotent_replay(conn, owner, idempotency_key or "", digest)
        if replay is None:
            raise RuntimeError("an idempotency record vanished after a conflict")
        return replay
    return 202, response


def refuse_announcement(version: TemplateVersion) -> None:
    """Refuse (422) an announcement sent as one message: it would pass by consent and opt-outs.

    Only a campaign checks what an announcement needs (consent, opt-outs, quiet hours, the
    advertising marking), so an opt-out of "all" stops every announcement only if they all go
    as campaigns.
    """
    if version.spec.purpose == ANNOUNCEMENT:
        reason = f"template {version.key!r} is an announcement; {ANNOUNCEMENTS_AS_CAMPAIGNS}"
        raise ValidationFailed([FieldError("/template", reason)])


def alimtalk_choice(
    ctx: Context, requested: str, resolved: str, center: dict[str, str], version: TemplateVersion, locale: str
) -> str:
    """``kakao`` when asked for (or a 422 saying why it cannot be), or when ``auto`` may use it.

    ``auto`` prefers AlimTalk to SMS when SOLAPI is configured, the centre has a KakaoTalk
    channel and the template an AlimTalk variant for the locale.
    """
    pf_id = kakao_channel_of(ctx, center)
    usable = ctx.alimtalk is not None and pf_id is not None and version.has_channel("kakao", locale)
    if requested == "kakao" and not usable:
        errors = []
        if ctx.alimtalk is None:
            errors.append(FieldError("/channel", "알림톡은 SOLAPI가 설정된 경우에만 보낼 수 있습니다."))
        if pf_id is None:
            errors.append(FieldError("/center", "센터에 카카오톡 채널(pfId)이 등록되어 있지 않습니다."))
        if version.alimtalk_for(locale) is None:
            errors.append(FieldError("/channel", f"template {version.key!r} has no AlimTalk variant"))
        elif not version.has_channel("sms", locale):  # saved before the fallback needed it
            reason = f"template {version.key!r} has no SMS text for the AlimTalk's fallback (대체발송)"
            errors.append(FieldError("/channel", reason))
        raise ValidationFailed(errors)
    if requested == "kakao" or (requested == "auto" and resolved == "sms" and usable):
        return "kakao"
    return resolved


def kakao_channel_of(ctx: Context, center: dict[str, str]) -> str | None:
    """The KakaoTalk channel (pfId) of the registered centre a message is sent for, if any."""
    from notifier.centers import service as centers

    if not center.get("code"):
        return None
    return centers.get(ctx, center["code"]).kakao_pf_id


def render_for(
    ctx: Context,
    version: TemplateVersion,
    channel: str,
    locale: str,
    data: dict[str, Any],
    *,
    may_fall_back: bool,
) -> RenderedMessage:
    """Render for ``channel``; an AlimTalk that ``auto`` chose but its data cannot make goes as SMS."""
    try:
        return ctx.renderer.render(version, channel, locale, data)
    except ValidationFailed:
        if channel != "kakao" or not may_fall_back:
            raise
        return ctx.renderer.render(version, "sms", locale, data)


def with_alimtalk(
    ctx: Context, data: dict[str, Any], center: dict[str, str], rendered: RenderedMessage
) -> dict[str, Any]:
    """The message's data, with what SOLAPI needs for an AlimTalk kept under ``_alimtalk``."""
    if rendered.alimtalk is None:
        return data
    return {**data, ALIMTALK_KEY: {"pf_id": kakao_channel_of(ctx, center), **rendered.alimtalk.as_dict()}}


def _check_sender(ctx: Context, row: dict[str, Any]) -> None:
    """Refuse (422) an SMS (or AlimTalk fallback) from a number not registered with its provider."""
    from notifier.centers import service as centers

    code = row["center"].get("code")
    if row["channel"] == "kakao":
        names = [ctx.alimtalk.name] if ctx.alimtalk is not None else []
    else:  # judged by the first provider of the centre's order (failover passes over the others)
        names = [] if row["channel"] != "sms" or ctx.sms_to_outbox else ctx.sms.order(code)[:1]
    for name in names:
        reason = centers.unregistered_sender(ctx, code, name, row["sender"])
        if reason is not None:
            raise ValidationFailed([FieldError("/center", reason)], "발신번호가 사전등록되지 않았습니다")


def _after_quiet_hours(
    ctx: Context, center: dict[str, str], send_at: datetime, now: datetime, *, urgent: bool
) -> tuple[datetime, str | None]:
    """When a message due at ``send_at`` goes, and what its first history entry says about it.

    Nobody is woken by an automatic message: one that would go out in the quiet hours of its
    centre (the registered centre's, else ``NOTIFIER_QUIET_HOURS``) waits until they end,
    unless the client marked it urgent. It goes at ``send_at`` or, when that has passed, now:
    a send_at of 20:00 received at 23:00 is held too.
    """
    from notifier.centers import service as centers

    if urgent:
        return send_at, URGENT
    zone, quiet = centers.quiet_hours_of(ctx, center)
    goes = max(send_at, now)
    later = next_allowed_at(goes, zone, quiet)
    if later == goes:
        return send_at, None
    local = later.astimezone(zone)
    hours = f"{quiet.start:%H:%M}-{quiet.end:%H:%M}"
    return later, f"held for quiet hours ({hours} {zone.key}) until {local:%Y-%m-%d %H:%M}"


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
    if channel in ("sms", "kakao"):
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
        "to_phone": recipient.phone if channel in ("sms", "kakao") else None,
        "to_email": recipient.email if channel == "email" else None,
        "to_name": recipient.name,
        "sender": sender,
        "center": center,
        "center_code": center.get("code") or None,
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
