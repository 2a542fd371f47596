"""Tables of the staff feature: accounts, console sessions, failed sign-ins, reset links, audit log.

No secret is stored readable: passwords as Argon2 hashes, session and reset tokens as SHA-256
hashes (they carry 256 random bits). The audit log is append-only: the code has no path that
updates or deletes its rows.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # lower-cased
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("centers", JSON, nullable=False),  # centre codes; empty for ministry
    Column("password_hash", String(200)),  # None until a reset link is used
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("staff_id", String(36), ForeignKey("staff_accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("address", String(64)),
    Index("ix_staff_sessions_staff_id", "staff_id"),
)

staff_login_failures = Table(
    "staff_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_staff_login_failures_email", "email", "at"),
    Index("ix_staff_login_failures_address", "address", "at"),
)

staff_reset_tokens = Table(
    "staff_reset_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("staff_id", String(36), ForeignKey("staff_accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
    Index("ix_staff_reset_tokens_staff_id", "staff_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor_id", String(36)),  # None: the command line on the server
    Column("actor", String(320), nullable=False),  # the account's email, or "cli"
    Column("action", String(50), nullable=False),
    Column("object_type", String(30), nullable=False),
    Column("object_id", String(100)),
    Column("center_code", String(50)),
    Column("address", String(64)),
    Column("detail", Text),  # masked: never a phone number or email in clear
    Index("ix_audit_log_center_code", "center_code", "id"),
    Index("ix_audit_log_object", "object_type", "object_id", "action"),  # e.g. a campaign's approvals
)
