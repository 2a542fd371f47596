"""API keys. Only a SHA-256 hash of each key is stored; the key is shown once."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.engine import RowMapping

from notifier.keys.tables import api_keys

SCOPES = frozenset({"send", "appointments", "campaigns", "templates", "admin"})
KEY_PREFIX = "ntf_"


def hash_key(key: str) -> str:
    """Hash a key for lookup. Keys carry 256 random bits, so a fast hash is safe here."""
    return hashlib.sha256(key.encode()).hexdigest()


def create(
    conn: Connection, name: str, scopes: Iterable[str], now: datetime, owner: str | None = None
) -> str:
    """Create a key and return it; only its hash is kept."""
    scopes = sorted(set(scopes))
    unknown = set(scopes) - SCOPES
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(sorted(SCOPES))}")
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    conn.execute(
        api_keys.insert().values(
            id=str(uuid.uuid4()),
            name=name,
            owner=owner or name,
            prefix=prefix,
            key_hash=hash_key(key),
            scopes=scopes,
            created_at=now,
        )
    )
    return key


def find(conn: Connection, key: str) -> RowMapping | None:
    """Find the live key row for a presented key."""
    return find_by_hash(conn, hash_key(key))


def find_by_hash(conn: Connection, key_hash: str) -> RowMapping | None:
    query = select(api_keys).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    return conn.execute(query).mappings().first()


def revoke(conn: Connection, prefix: str, now: datetime) -> bool:
    """Revoke the live key whose prefix (its id in ``notifier keys list``) is ``prefix``."""
    query = update(api_keys).where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
    return conn.execute(query.values(revoked_at=now)).rowcount > 0


def revoke_by_id(conn: Connection, key_id: str, now: datetime) -> RowMapping | None:
    """Revoke the live key ``key_id``; return its row, or None if there is no such live key."""
    query = (
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(api_keys.c.id, api_keys.c.name, api_keys.c.owner, api_keys.c.prefix)
    )
    return conn.execute(query).mappings().first()


def find_by_id(conn: Connection, key_id: str) -> RowMapping | None:
    return conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()


def touch(conn: Connection, key_id: str, now: datetime, every: timedelta) -> None:
    """Record that a key was used, unless that was recorded less than ``every`` ago."""
    stale = or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < now - every)
    conn.execute(update(api_keys).where(api_keys.c.id == key_id, stale).values(last_used_at=now))


def listing(conn: Connection, include_revoked: bool = True) -> list[RowMapping]:
    """Every key without its hash, oldest first."""
    cols = [
        api_keys.c.id,
        api_keys.c.name,
        api_keys.c.owner,
        api_keys.c.prefix,
        api_keys.c.scopes,
        api_keys.c.created_at,
        api_keys.c.revoked_at,
        api_keys.c.last_used_at,
    ]
    query = select(*cols).order_by(api_keys.c.created_at, api_keys.c.id)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    return list(conn.execute(query).mappings())
