"""The tables. Repositories in this package are the only code that queries them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from notifier.storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("owner", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("template_key", String(100), nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("locale", String(10), nullable=False),
    Column("purpose", String(30), nullable=False, default="message"),
    Column("category", String(20), nullable=False, default="informational"),
    Column("lane", String(20), nullable=False),
    Column("to_phone", String(20)),
    Column("to_email", String(320)),
    Column("to_name", String(200), nullable=False, default=""),
    Column("sender", String(320), nullable=False),
    Column("center", JSON, nullable=False),
    Column("data", JSON, nullable=False),
    Column("subject", Text),
    Column("body", Text),
    Column("html", Text),
    Column("attachments", JSON),
    Column("segments", Integer),
    Column("kr_class", String(3)),
    Column("status", String(20), nullable=False),
    Column("reference", String(200)),
    Column("send_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("enqueued_at", UTCDateTime()),
    Column("claimed_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("provider", String(20)),
    Column("provider_message_id", String(100)),
    Column("error_code", String(50)),
    Column("error_reason", Text),
    Column("sandboxed", Boolean, nullable=False, default=False),
    Column("appointment_id", String(36)),
    Column("appointment_version", Integer),
    Column("campaign_id", String(36)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_messages_status_send_at", "status", "send_at"),
    Index("ix_messages_owner_created", "owner", "created_at", "id"),
    Index("ix_messages_reference", "owner", "reference"),
    Index("ix_messages_provider_message_id", "provider_message_id"),
    Index("ix_messages_appointment", "appointment_id"),
    Index("ix_messages_campaign", "campaign_id", "status"),
)

message_events = Table(
    "message_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("detail", Text),
    Index("ix_message_events_message", "message_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("sender", String(320), nullable=False),
    Column("subject", Text),
    Column("body", Text, nullable=False),
    Column("html", Text),
    Column("created_at", UTCDateTime(), nullable=False),
)

templates = Table(
    "templates",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("current_version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

template_versions = Table(
    "template_versions",
    metadata,
    Column("key", String(100), ForeignKey("templates.key"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec", JSON, nullable=False),
    Column("sources", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=False),
)

centers = Table(
    "centers",
    metadata,
    Column("code", String(50), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("address", String(300)),
    Column("sms_sender", String(20), nullable=False),
    Column("email_sender", String(320)),
    Column("reply_to", String(320)),
    Column("timezone", String(50), nullable=False),
    Column("reminder_offsets", String(100)),
    Column("quiet_hours", String(20)),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Feature tables live in their own modules but share this metadata; importing them here makes
# ``metadata`` complete for migrations and for tests that truncate every table.
from notifier.storage import appointment_tables, campaign_tables, recipient_tables  # noqa: E402, F401
