"""The API keys table: only the hash of a key is stored."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    String,
    Table,
)

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

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
    Column("last_used_at", UTCDateTime()),  # written at most once a minute per key
)
