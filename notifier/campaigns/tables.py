"""Tables of the campaign feature (same metadata as notifier.storage.tables).

``campaigns`` holds what an admin asked for and where its fan-out stands; ``campaign_recipients``
one row per distinct address (the unique constraint merges duplicates as the list streams in);
``campaign_rejections`` every list row that could not be used, with its row number and why.
Two partial unique indexes on ``messages`` make the fan-out idempotent: a campaign can never
hold two messages to one address, however often the fan-out runs.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from notifier.messages.tables import messages
from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("template_key", String(100), nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("category", String(20), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("center", JSON, nullable=False),
    Column("data", JSON, nullable=False),
    Column("opt_out_number", String(20)),
    Column("rate_per_second", Float),
    Column("source", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("report", JSON, nullable=False),
    Column("send_at", UTCDateTime()),
    # Fan-out progress: every recipient row up to this one has its message.
    Column("fanout_after", Integer, nullable=False, default=-1),
    Column("fanned_out", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("cancelled_at", UTCDateTime()),
    Index("ix_campaigns_status", "status", "send_at"),
    Index("ix_campaigns_owner_created", "owner", "created_at"),
)

campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    Column("campaign_id", String(36), ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("address", String(320), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("phone", String(20)),
    Column("email", String(320)),
    Column("name", String(200), nullable=False),
    Column("locale", String(10), nullable=False),
    Column("data", JSON, nullable=False),
    Column("kr_class", String(3)),
    Column("segments", Integer),
    # None: will be sent; "opted_out" or "no_consent": left out, counted in the report.
    Column("excluded", String(20)),
    UniqueConstraint("campaign_id", "address"),
)

campaign_rejections = Table(
    "campaign_rejections",
    metadata,
    Column("campaign_id", String(36), ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("raw", Text),
)

_CAMPAIGN_MESSAGE = messages.c.campaign_id.is_not(None)
Index(
    "uq_messages_campaign_phone",
    messages.c.campaign_id,
    messages.c.to_phone,
    unique=True,
    postgresql_where=_CAMPAIGN_MESSAGE,
    sqlite_where=_CAMPAIGN_MESSAGE,
)
Index(
    "uq_messages_campaign_email",
    messages.c.campaign_id,
    messages.c.to_email,
    unique=True,
    postgresql_where=_CAMPAIGN_MESSAGE,
    sqlite_where=_CAMPAIGN_MESSAGE,
)
