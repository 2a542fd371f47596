"""Tables of appointments and of the signed webhooks that tell booking systems what happened."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from notifier.storage.tables import metadata
from notifier.storage.types import UTCDateTime

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("version", Integer),  # the booking system's monotonic number, if it sends one
    Column("revision", Integer, nullable=False),  # ours: +1 on every accepted change
    Column("request_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # booked | cancelled
    Column("recipient", JSON, nullable=False),
    Column("center_code", String(50), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("counselor", String(100), nullable=False),
    Column("location", String(300), nullable=False),
    Column("channels", JSON, nullable=False),
    Column("reminder_plan", JSON, nullable=False),
    Column("attendance", String(20)),  # None | confirmed | change_requested
    Column("attendance_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("cancelled_at", UTCDateTime()),
    UniqueConstraint("owner", "external_id", name="uq_appointments_owner_external_id"),
    Index("ix_appointments_center_starts", "center_code", "starts_at"),
)

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

# How far the message-event feed has been turned into ``message.status_changed`` webhooks.
event_cursor = Table(
    "event_cursor",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("last_id", Integer, nullable=False),
)
