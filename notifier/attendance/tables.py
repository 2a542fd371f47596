"""The reminder-plan experiments (the appointments carry their outcome and arm themselves)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("center_code", String(50), nullable=False),
    Column("name", String(200), nullable=False),
    Column("arms", JSON, nullable=False),  # [{"plan": "24h,2h", "share": 0.5}, ...]; the first is the control
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime()),  # planned end, if any
    Column("stopped_at", UTCDateTime()),  # when a manager stopped it
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_experiments_center_starts", "center_code", "starts_at"),
)
