"""The SQL of outbound webhooks: subscriptions, deliveries, and the cursor over message history.

A delivery's status changes only through ``transition``/``transition_many``: one conditional
UPDATE whose WHERE lists the statuses ``notifier.domain.webhook_status`` allows the new one
from, so of two ticks claiming the same delivery exactly one wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, and_, cast, delete, func, or_, select, update
from sqlalchemy.engine import RowMapping

from notifier.domain.erasure import Person, scrub
from notifier.domain.webhook_status import WebhookDeliveryStatus, delivery_sources_of
from notifier.messages.tables import message_events, messages
from notifier.storage.transitions import move_where
from notifier.webhooks.tables import event_cursor, webhook_deliveries, webhooks


@dataclass(frozen=True)
class DeliveryAttempt:
    """What one POST of a claimed delivery needs: the event, its receiver, its attempts so far."""

    id: str
    event: str
    payload: dict[str, Any]
    attempts: int
    url: str
    secret: str


# ---- subscriptions ---------------------------------------------------------------------------


def webhook_exists(conn: Connection, owner: str) -> bool:
    return conn.execute(select(webhooks.c.owner).where(webhooks.c.owner == owner)).first() is not None


def insert_webhook(
    conn: Connection, owner: str, url: str, events: list[str], secret: str, now: datetime
) -> None:
    conn.execute(
        webhooks.insert().values(
            owner=owner, url=url, events=events, secret=secret, created_at=now, updated_at=now
        )
    )


def update_webhook(conn: Connection, owner: str, url: str, events: list[str], now: datetime) -> None:
    conn.execute(
        update(webhooks).where(webhooks.c.owner == owner).values(url=url, events=events, updated_at=now)
    )


def subscribed_events(conn: Connection, owner: str) -> list[str] | None:
    """The events the owner's webhook wants; None if the owner has no webhook."""
    row = conn.execute(select(webhooks.c.events).where(webhooks.c.owner == owner)).first()
    return list(row[0]) if row is not None else None


def owners_subscribed_to(conn: Connection, event: str) -> set[str]:
    return {
        owner
        for owner, events in conn.execute(select(webhooks.c.owner, webhooks.c.events))
        if event in events
    }


# ---- deliveries ------------------------------------------------------------------------------


def insert_delivery(
    conn: Connection, delivery_id: str, owner: str, event: str, payload: dict[str, Any], now: datetime
) -> None:
    """Store a new delivery, due at once."""
    conn.execute(
        webhook_deliveries.insert().values(
            id=delivery_id,
            owner=owner,
            event=event,
            payload=payload,
            status=WebhookDeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def transition_many(
    conn: Connection,
    condition: ColumnElement[bool],
    new: WebhookDeliveryStatus,
    *,
    only_from: Iterable[WebhookDeliveryStatus] | None = None,
    **values: Any,
) -> list[str]:
    """Move every delivery matching ``condition`` (and allowed to) to ``new``; return their ids."""
    sources = set(delivery_sources_of(new))
    if only_from is not None:
        sources &= set(only_from)
    return move_where(conn, webhook_deliveries, condition, new, sources, **values)


def transition(conn: Connection, delivery_id: str, new: WebhookDeliveryStatus, **values: Any) -> bool:
    """Move one delivery to ``new`` if its lifecycle allows it from its current status."""
    return bool(transition_many(conn, webhook_deliveries.c.id == delivery_id, new, **values))


def release_stuck(conn: Connection, claimed_before: datetime) -> list[str]:
    """Make deliveries claimed before ``claimed_before`` and never answered due again."""
    return transition_many(
        conn, webhook_deliveries.c.next_attempt_at < claimed_before, WebhookDeliveryStatus.PENDING
    )


def due_ids(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Up to ``limit`` pending deliveries whose next attempt is due."""
    due = and_(
        webhook_deliveries.c.status == WebhookDeliveryStatus.PENDING.value,
        webhook_deliveries.c.next_attempt_at <= now,
    )
    return [row[0] for row in conn.execute(select(webhook_deliveries.c.id).where(due).limit(limit))]


def delete_finished_before(conn: Connection, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` delivered or failed deliveries last attempted before ``cutoff``."""
    finished = and_(
        webhook_deliveries.c.status.in_([s.value for s in WebhookDeliveryStatus if s.is_final]),
        webhook_deliveries.c.next_attempt_at < cutoff,  # (status, next_attempt_at): the due index
    )
    ids = select(webhook_deliveries.c.id).where(finished).limit(limit).scalar_subquery()
    return conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.id.in_(ids))).rowcount


def attempt_of(conn: Connection, delivery_id: str) -> DeliveryAttempt:
    """The delivery with its receiver's URL and secret."""
    row = (
        conn.execute(
            select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
            .join(webhooks, webhooks.c.owner == webhook_deliveries.c.owner)
            .where(webhook_deliveries.c.id == delivery_id)
        )
        .mappings()
        .one()
    )
    return DeliveryAttempt(
        id=row["id"],
        event=row["event"],
        payload=row["payload"],
        attempts=row["attempts"],
        url=row["url"],
        secret=row["secret"],
    )


# ---- the cursor over message history ---------------------------------------------------------


def lock_cursor(conn: Connection, name: str) -> int | None:
    """The cursor's last id, locked until the transaction ends; None if it does not exist yet."""
    query = select(event_cursor.c.last_id).where(event_cursor.c.name == name).with_for_update()
    found = conn.execute(query).scalar()
    return int(found) if found is not None else None


def start_cursor_at_present(conn: Connection, name: str) -> int:
    """Create the cursor at the latest message history entry (no backfill of old history)."""
    last_id = int(conn.execute(select(func.coalesce(func.max(message_events.c.id), 0))).scalar_one())
    conn.execute(event_cursor.insert().values(name=name, last_id=last_id))
    return last_id


def move_cursor(conn: Connection, name: str, last_id: int) -> None:
    conn.execute(update(event_cursor).where(event_cursor.c.name == name).values(last_id=last_id))


def message_events_after(conn: Connection, last_id: int, limit: int) -> list[RowMapping]:
    """Message history entries after ``last_id``, in id order, with their message's owner."""
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
        .where(message_events.c.id > last_id)
        .order_by(message_events.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def erase_person(conn: Connection, person: Person, now: datetime) -> int:
    """Erase the person from the payloads of the owner's webhook deliveries; return how many changed.

    The event stays (its kind, times and delivery status) so the delivery log still adds up.
    """
    payload = webhook_deliveries.c.payload
    fragments = [f for f in (person.phone and person.phone[-4:], person.email) if f]
    if not fragments:
        return 0
    query = select(webhook_deliveries.c.id, payload).where(
        webhook_deliveries.c.owner == person.owner,
        or_(*(func.lower(cast(payload, Text)).contains(f) for f in fragments)),
    )
    changed = 0
    for row in conn.execute(query).mappings():
        scrubbed = scrub(row["payload"], person)
        if scrubbed != row["payload"]:
            conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == row["id"])
                .values(payload=scrubbed)
            )
            changed += 1
    return changed
