"""Outbound webhooks: subscriptions, deliveries and the event cursor."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

webhooks = Table(
    "webhooks",
    metadata,
    Column("owner", String(100), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(100), ForeignKey("webhooks.owner", ondelete="CASCADE"), nullable=False),
    Column("event", String(50), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # pending | delivering | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_owner", "owner", "created_at"),
)

event_cursor = Table(
    "event_cursor",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("last_id", Integer, nullable=False),
)
