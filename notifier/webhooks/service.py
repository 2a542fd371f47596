"""Signed webhooks to client services: appointment answers, message statuses, opt-outs.

Events are written to ``webhook_deliveries`` in the same transaction as the change they
report (so none is lost), then POSTed by the scheduler's tick with retries.

Signature: header ``Notifier-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is
HMAC-SHA256 with the webhook's secret over ``f"{t}.{body}"``. Receivers recompute it and
reject old timestamps (we suggest five minutes) to stop replays.

A webhook URL is chosen by the client, so the service would POST wherever it is told: to be
no proxy into our own network, a URL whose host resolves to a loopback, private, link-local,
reserved or multicast address is refused when registered and again when delivered (DNS may
change in between), unless ``NOTIFIER_WEBHOOK_ALLOW_PRIVATE`` is set for development.
Each event needs the API key scope that could read the same facts (``scope_for``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import requests
from pydantic import Field, PlainSerializer, WithJsonSchema
from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.exc import IntegrityError

from notifier.context import Context
from notifier.errors import FieldError, NotFound, ValidationFailed
from notifier.messages.tables import message_events, messages
from notifier.responses import ResponseModel
from notifier.webhooks.tables import event_cursor, webhook_deliveries, webhooks

log = logging.getLogger("notifier.webhooks")
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 5.0
STUCK_AFTER = timedelta(minutes=2)
BATCH = 100
SETTLE = timedelta(seconds=10)  # longer than any transaction that writes message history
SIGNATURE_HEADER = "Notifier-Signature"
ADDRESS_NOT_ALLOWED = "address not allowed"
# The scope a key needs to subscribe to an event; every appointment.* event needs "appointments".
EVENT_SCOPES = {"message.status_changed": "send", "recipient.opted_out": "campaigns"}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Compute the signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def scope_for(event: str) -> str:
    """The API key scope a client needs to subscribe to ``event`` (``admin`` for one unknown here)."""
    return "appointments" if event.startswith("appointment.") else EVENT_SCOPES.get(event, "admin")


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is anything but a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global  # e.g. 100.64.0.0/10, shared by carriers
    )


def internal_address(url: str) -> str | None:
    """The first internal address ``url``'s host resolves to, if any; OSError if it does not resolve."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise OSError(f"{url!r} names no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for *_, sockaddr in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop an IPv6 zone
        if is_internal(address):
            return str(address)
    return None


def receiver_problem(ctx: Context, url: str) -> str | None:
    """Why webhooks may not be sent to ``url``, or None if they may."""
    if ctx.settings.webhook_allow_private:
        return None
    try:
        address = internal_address(url)
    except (OSError, ValueError):
        return "the host does not resolve to an address"
    if address is not None:
        return f"the host resolves to {address}, which is not a public address"
    return None


# Delivery times keep their "+00:00" offset (they always have), unlike the "Z" elsewhere.
OffsetTimestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class WebhookDelivery(ResponseModel):
    id: str
    event: str
    status: Literal["pending", "delivering", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: OffsetTimestamp
    delivered_at: OffsetTimestamp | None
    next_attempt_at: OffsetTimestamp | None


class Webhook(ResponseModel):
    """The owner's webhook; ``secret`` only when it is created, ``deliveries`` only when read."""

    url: str
    events: list[str]
    secret: str = Field(default="", description="only when the webhook is created; signs every call")
    deliveries: list[WebhookDelivery] = Field(default_factory=list)


def put_webhook(ctx: Context, owner: str, url: str, events: list[str]) -> tuple[int, dict[str, Any]]:
    """Register or replace the owner's webhook. The secret is shown when it is created."""
    problem = receiver_problem(ctx, url)
    if problem is not None:
        raise ValidationFailed([FieldError("/url", problem)])
    now = ctx.clock()
    events = sorted(set(events))
    try:
        with ctx.engine.begin() as conn:
            existing = conn.execute(select(webhooks.c.owner).where(webhooks.c.owner == owner)).first()
            if existing is None:
                secret = "whsec_" + secrets.token_urlsafe(32)
                conn.execute(
                    webhooks.insert().values(
                        owner=owner, url=url, events=events, secret=secret, created_at=now, updated_at=now
                    )
                )
                return 201, Webhook(url=url, events=events, secret=secret).dump()
    except IntegrityError:
        pass  # a concurrent first registration won; ours replaces it, as a later PUT would
    with ctx.engine.begin() as conn:
        conn.execute(
            update(webhooks).where(webhooks.c.owner == owner).values(url=url, events=events, updated_at=now)
        )
    return 200, Webhook(url=url, events=events).dump()


def get_webhook(ctx: Context, owner: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        hook = conn.execute(select(webhooks).where(webhooks.c.owner == owner)).mappings().first()
        if hook is None:
            raise NotFound("no webhook is registered for this key's owner")
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.owner == owner)
            .order_by(webhook_deliveries.c.created_at.desc())
            .limit(50)
        )
        deliveries = [
            WebhookDelivery(
                id=d["id"],
                event=d["event"],
                status=d["status"],
                attempts=d["attempts"],
                last_status_code=d["last_status_code"],
                last_error=d["last_error"],
                created_at=d["created_at"],
                delivered_at=d["delivered_at"] or None,
                next_attempt_at=d["next_attempt_at"] if d["status"] == "pending" else None,
            )
            for d in conn.execute(query).mappings()
        ]
    return Webhook(url=hook["url"], events=hook["events"], deliveries=deliveries).dump()


def emit(conn: Connection, owner: str, event: str, data: dict[str, Any], now: datetime) -> str | None:
    """Record an event for the owner's webhook, if it wants it; call inside the change's transaction."""
    hook = conn.execute(select(webhooks.c.events).where(webhooks.c.owner == owner)).first()
    if hook is None or event not in hook[0]:
        return None
    delivery_id = str(uuid.uuid4())
    payload = {"id": delivery_id, "type": event, "created_at": now.isoformat(), "data": data}
    conn.execute(
        webhook_deliveries.insert().values(
            id=delivery_id,
            owner=owner,
            event=event,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return delivery_id


def emit_message_events(ctx: Context) -> int:
    """Turn new message history entries into ``message.status_changed`` events."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        cursor = conn.execute(
            select(event_cursor.c.last_id).where(event_cursor.c.name == "message_events").with_for_update()
        ).scalar()
        if cursor is None:  # start at the present: no backfill of old history
            cursor = conn.execute(select(func.coalesce(func.max(message_events.c.id), 0))).scalar_one()
            conn.execute(event_cursor.insert().values(name="message_events", last_id=cursor))
        subscribed = {
            r[0]
            for r in conn.execute(select(webhooks.c.owner, webhooks.c.events))
            if "message.status_changed" in r[1]
        }
        query = (
            select(
                message_events.c.id,
                message_events.c.status,
                message_events.c.at,
                message_events.c.detail,
                messages.c.id.label("message_id"),
                messages.c.owner,
                messages.c.reference,
                messages.c.channel,
            )
            .join(messages, messages.c.id == message_events.c.message_id)
            .where(message_events.c.id > cursor)
            .order_by(message_events.c.id)
            .limit(1000)
        )
        rows = []
        for row in conn.execute(query).mappings():
            # Ids are taken in insert order but become visible in commit order: stop at the first
            # recent event, so one whose transaction commits a moment later is not skipped.
            if row["at"] > now - SETTLE:
                break
            rows.append(row)
        emitted = 0
        for row in rows:
            if row["owner"] in subscribed:
                data = {
                    "message_id": row["message_id"],
                    "status": row["status"],
                    "at": row["at"].isoformat(),
                    "detail": row["detail"],
                    "reference": row["reference"],
                    "channel": row["channel"],
                }
                emitted += emit(conn, row["owner"], "message.status_changed", data, now) is not None
        if rows:
            conn.execute(
                update(event_cursor)
                .where(event_cursor.c.name == "message_events")
                .values(last_id=rows[-1]["id"])
            )
    return emitted


def deliver_due(ctx: Context, pool: ThreadPoolExecutor | None = None) -> int:
    """Claim due deliveries and POST them; with a pool, do not wait for the answers."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        stale = and_(
            webhook_deliveries.c.status == "delivering",
            webhook_deliveries.c.next_attempt_at < now - STUCK_AFTER,
        )
        conn.execute(update(webhook_deliveries).where(stale).values(status="pending"))
        due = and_(webhook_deliveries.c.status == "pending", webhook_deliveries.c.next_attempt_at <= now)
        ids = [r[0] for r in conn.execute(select(webhook_deliveries.c.id).where(due).limit(BATCH))]
    claimed = []
    for delivery_id in ids:
        with ctx.engine.begin() as conn:
            won = conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.status == "pending")
                .values(status="delivering", next_attempt_at=now)
            ).rowcount
        if won:
            claimed.append(delivery_id)
    for delivery_id in claimed:
        if pool is None:
            attempt(ctx, delivery_id)
        else:
            pool.submit(attempt, ctx, delivery_id)
    return len(claimed)


def attempt(ctx: Context, delivery_id: str) -> str:
    """POST one claimed delivery once and record the outcome."""
    with ctx.engine.connect() as conn:
        row = (
            conn.execute(
                select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
                .join(webhooks, webhooks.c.owner == webhook_deliveries.c.owner)
                .where(webhook_deliveries.c.id == delivery_id)
            )
            .mappings()
            .one()
        )
    body = json.dumps(row["payload"], ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(ctx.clock().timestamp())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(row["secret"], timestamp, body),
        "Notifier-Event": row["event"],
        "Notifier-Delivery": delivery_id,
    }
    status_code, error = None, None
    if _internal_now(ctx, row["url"]):  # its DNS may have changed since it was registered
        error, retryable, ok = ADDRESS_NOT_ALLOWED, False, False
    else:
        try:
            response = requests.post(
                row["url"], data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
            )
            status_code = response.status_code
            retryable = status_code == 429 or status_code >= 500
            ok = 200 <= status_code < 300
        except requests.RequestException as exc:
            error, retryable, ok = f"{type(exc).__name__}: {exc}"[:500], True, False
    attempts = row["attempts"] + 1
    now = ctx.clock()
    if ok:
        outcome, values = "delivered", {"delivered_at": now}
    elif retryable and attempts < MAX_ATTEMPTS:
        ceiling = min(3600.0, ctx.settings.retry_base_seconds * 2**attempts)
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        outcome, values = "pending", {"next_attempt_at": now + timedelta(seconds=delay)}
    else:
        outcome, values = "failed", {}
    with ctx.engine.begin() as conn:
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(
                status=outcome, attempts=attempts, last_status_code=status_code, last_error=error, **values
            )
        )
    log.info(
        "webhook attempt", extra={"delivery_id": delivery_id, "outcome": outcome, "status_code": status_code}
    )
    return outcome


def _internal_now(ctx: Context, url: str) -> bool:
    if ctx.settings.webhook_allow_private:
        return False
    try:
        return internal_address(url) is not None
    except (OSError, ValueError):
        return False  # unresolvable now: the POST fails to connect and is retried like any outage


def tick_hook(ctx: Context) -> dict[str, int]:
    if ctx.webhook_pool is None:
        ctx.webhook_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook")
    pool = ctx.webhook_pool
    return {"webhook_events": emit_message_events(ctx), "webhooks_sent": deliver_due(ctx, pool)}


def register(ctx: Context) -> None:
    ctx.tick_hooks.append(tick_hook)
