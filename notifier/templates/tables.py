"""Templates and their immutable versions."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
)

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

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
    Column("created_by", String(100), nullable=False),  # the owner of the key that saved it
    Column("saved_by", String(100)),  # the key's name; None before migration 0007
)
