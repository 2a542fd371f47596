"""Messages, their history and idempotency records."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
)

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

REFERENCE_LENGTH = 200  # appointments derive their longest external id from it

# What a provider hands back is bounded here, where it is stored (``outcomes.py``): an id or a
# code longer than these is not the provider's usual answer, and must not fail a batch's write.
PROVIDER_ID_LENGTH = 100
ERROR_CODE_LENGTH = 50

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
    Column("center_code", String(50)),  # the registered centre's code in ``center``; None: none
    Column("data", JSON, nullable=False),
    Column("subject", Text),
    Column("body", Text),
    Column("html", Text),
    Column("attachments", JSON),
    Column("segments", Integer),
    Column("kr_class", String(3)),
    Column("status", String(20), nullable=False),
    Column("reference", String(REFERENCE_LENGTH)),
    Column("send_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("enqueued_at", UTCDateTime()),
    Column("claimed_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("provider", String(20)),
    Column("provider_message_id", String(PROVIDER_ID_LENGTH)),
    Column("error_code", String(ERROR_CODE_LENGTH)),
    Column("error_reason", Text),
    Column("sandboxed", Boolean, nullable=False, default=False),
    Column("delivered_via", String(10)),  # kakao, sms or lms: what reached the person (SOLAPI)
    Column("appointment_id", String(36)),
    Column("appointment_revision", Integer),  # the appointment's revision it was made for
    Column("campaign_id", String(36)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_messages_status_send_at", "status", "send_at"),
    Index("ix_messages_owner_created", "owner", "created_at", "id"),
    Index("ix_messages_reference", "owner", "reference"),
    Index("ix_messages_provider_message_id", "provider_message_id"),
    Index("ix_messages_appointment", "appointment_id"),
    Index("ix_messages_campaign", "campaign_id", "status"),
    # The console: a centre's messages by time, and the search by address (newest first).
    Index("ix_messages_center_created", "center_code", "created_at", "id"),
    Index("ix_messages_created", "created_at", "id"),
    Index("ix_messages_to_phone", "to_phone", "created_at"),
)
# Email addresses are searched whatever their case (intake keeps the local part as given).
Index("ix_messages_to_email_lower", func.lower(messages.c.to_email), messages.c.created_at)


def status_of_rows_found_by_id() -> ColumnElement[str]:
    """``messages.status`` for a condition on rows a statement finds by their ids.

    Written as an expression (``status || ''``, the same value) so that PostgreSQL checks it on
    each row the primary key finds and never looks it up in ``ix_messages_status_send_at``
    instead. During a campaign thousands of messages a second go ``queued -> sending -> sent``,
    faster than autovacuum analyses the table: the planner then expects a handful of rows in a
    status, picks that index, and reads every entry it holds for the status, dead ones
    included, on every batch (EXPLAIN showed 19,762 entries read to record 500 outcomes after
    20,000 messages; ``bench.message_life``).
    """
    return messages.c.status.concat("")


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

# The console home page's counts of a closed local day, per centre ('' for none) and channel:
# stored the first time a page needs them (notifier.messages.day_counts), so a view never counts
# more than today's messages.
message_day_counts = Table(
    "message_day_counts",
    metadata,
    Column("center_code", String(50), primary_key=True),
    Column("day", Date, primary_key=True),  # the local day (the service's zone)
    Column("channel", String(10), primary_key=True),
    Column("sent", Integer, nullable=False),
    Column("delivered", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("suppressed", Integer, nullable=False),
    Column("computed_at", UTCDateTime(), nullable=False),
)

# The console home page's failures of the last 14 days, grouped by reason: read from the index
# alone (a failed message does not change again, so its pages stay all-visible).
_FAILED = messages.c.status == "failed"
Index(
    "ix_messages_failed_created",
    messages.c.created_at,
    messages.c.center_code,
    postgresql_include=["error_code", "error_reason"],
    postgresql_where=_FAILED,
    sqlite_where=_FAILED,
)
