"""Signed webhooks to client services: appointment answers, message statuses, opt-outs.

Events are written to ``webhook_deliveries`` in the same transaction as the change they
report (so none is lost), then POSTed by the scheduler's tick with retries.

Signature: header ``Notifier-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is
HMAC-SHA256 with the webhook's secret over ``f"{t}.{body}"``. Receivers recompute it and
reject old timestamps (we suggest five minutes) to stop replays.

A webhook URL is chosen by the client, so the service would POST wherever it is told; how it
stays no proxy into our own network is in ``webhooks.egress``.
Each event needs the API key scope that could read the same facts (``scope_for``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import requests
from pydantic import Field, PlainSerializer, WithJsonSchema
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from notifier.context import Context
from notifier.domain.webhook_status import WebhookDeliveryStatus
from notifier.errors import FieldError, NotFound, ValidationFailed
from notifier.responses import ResponseModel
from notifier.webhooks import egress, retention
from notifier.webhooks import repository as webhook_repo
from notifier.webhooks.tables import webhook_deliveries, webhooks

log = logging.getLogger("notifier.webhooks")
MESSAGE_EVENTS_CURSOR = "message_events"
MESSAGE_EVENTS_BATCH = 1000
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


def receiver_problem(ctx: Context, url: str) -> str | None:
    """Why webhooks may not be sent to ``url``, or None if they may."""
    try:
        receiver = egress.parse_receiver_url(url)
    except ValueError as exc:
        return f"not a URL webhooks can be sent to: it {exc}"
    if ctx.settings.webhook_allow_private:
        return None
    try:
        address = egress.internal_address(receiver)
    except (OSError, ValueError, UnicodeError):
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
            if not webhook_repo.webhook_exists(conn, owner):
                secret = "whsec_" + secrets.token_urlsafe(32)
                webhook_repo.insert_webhook(conn, owner, url, events, secret, now)
                return 201, Webhook(url=url, events=events, secret=secret).dump()
    except IntegrityError:
        pass  # a concurrent first registration won; ours replaces it, as a later PUT would
    with ctx.engine.begin() as conn:
        webhook_repo.update_webhook(conn, owner, url, events, now)
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
    events = webhook_repo.subscribed_events(conn, owner)
    if events is None or event not in events:
        return None
    delivery_id = str(uuid.uuid4())
    payload = {"id": delivery_id, "type": event, "created_at": now.isoformat(), "data": data}
    webhook_repo.insert_delivery(conn, delivery_id, owner, event, payload, now)
    return delivery_id


def emit_message_events(ctx: Context) -> int:
    """Turn new message history entries into ``message.status_changed`` events."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        cursor = webhook_repo.lock_cursor(conn, MESSAGE_EVENTS_CURSOR)
        if cursor is None:  # start at the present: no backfill of old history
            cursor = webhook_repo.start_cursor_at_present(conn, MESSAGE_EVENTS_CURSOR)
        subscribed = webhook_repo.owners_subscribed_to(conn, "message.status_changed")
        rows = []
        for row in webhook_repo.message_events_after(conn, cursor, MESSAGE_EVENTS_BATCH):
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
            webhook_repo.move_cursor(conn, MESSAGE_EVENTS_CURSOR, rows[-1]["id"])
    return emitted


def deliver_due(ctx: Context, pool: ThreadPoolExecutor | None = None) -> int:
    """Claim due deliveries and POST them; with a pool, do not wait for the answers."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        webhook_repo.release_stuck(conn, now - STUCK_AFTER)
        ids = webhook_repo.due_ids(conn, now, BATCH)
    claimed = []
    for delivery_id in ids:
        with ctx.engine.begin() as conn:
            won = webhook_repo.transition(
                conn, delivery_id, WebhookDeliveryStatus.DELIVERING, next_attempt_at=now
            )
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
        delivery = webhook_repo.attempt_of(conn, delivery_id)
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(ctx.clock().timestamp())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(delivery.secret, timestamp, body),
        "Notifier-Event": delivery.event,
        "Notifier-Delivery": delivery_id,
    }
    status_code, error = None, None
    try:  # the address is checked on the socket: DNS may have changed since it was registered
        response = egress.post(
            egress.parse_receiver_url(delivery.url),
            body,
            headers,
            timeout=TIMEOUT_SECONDS,
            allow_private=ctx.settings.webhook_allow_private,
        )
        status_code = response.status_code
        retryable = status_code == 429 or status_code >= 500
        ok = 200 <= status_code < 300
    except (egress.AddressNotAllowed, ValueError):
        error, retryable, ok = ADDRESS_NOT_ALLOWED, False, False
    except requests.RequestException as exc:
        error, retryable, ok = f"{type(exc).__name__}: {exc}"[:500], True, False
    attempts = delivery.attempts + 1
    now = ctx.clock()
    values: dict[str, Any]
    if ok:
        outcome, values = WebhookDeliveryStatus.DELIVERED, {"delivered_at": now}
    elif retryable and attempts < MAX_ATTEMPTS:
        ceiling = min(3600.0, ctx.settings.retry_base_seconds * 2**attempts)
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        outcome, values = WebhookDeliveryStatus.PENDING, {"next_attempt_at": now + timedelta(seconds=delay)}
    else:
        outcome, values = WebhookDeliveryStatus.FAILED, {}
    with ctx.engine.begin() as conn:
        webhook_repo.transition(
            conn,
            delivery_id,
            outcome,
            attempts=attempts,
            last_status_code=status_code,
            last_error=error,
            **values,
        )
    log.info(
        "webhook attempt",
        extra={"delivery_id": delivery_id, "outcome": outcome.value, "status_code": status_code},
    )
    return outcome.value


def tick_hook(ctx: Context) -> dict[str, int]:
    if ctx.webhook_pool is None:
        ctx.webhook_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook")
    pool = ctx.webhook_pool
    return {"webhook_events": emit_message_events(ctx), "webhooks_sent": deliver_due(ctx, pool)}


def register(ctx: Context) -> None:
    ctx.tick_hooks.append(tick_hook)
    ctx.tick_hooks.append(retention.forget_old_deliveries)
    ctx.erase_hooks.append(webhook_repo.erase_person)
