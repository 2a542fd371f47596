"""The audit log: who changed what, when, and from where.

Append-only by construction: this module (the only one that touches ``audit_log``) offers
``record`` and ``read`` and nothing that updates or deletes. Details are masked before they
are written (no phone number or email in clear).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from notifier.domain.phones import mask_personal_data
from notifier.staff.accounts import StaffAccount
from notifier.staff.tables import audit_log

PAGE_SIZE = 50


@dataclass(frozen=True)
class Actor:
    """Who makes a change and from where, for a use case that records it in its own transaction:
    a staff account, another named actor (e.g. ``api key booking``), or None for the command line."""

    who: StaffAccount | str | None
    address: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: str | None
    actor: str
    action: str
    object_type: str
    object_id: str | None
    center_code: str | None
    address: str | None
    detail: str | None


def record(
    conn: Connection,
    actor: StaffAccount | str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    now: datetime,
    *,
    center_code: str | None = None,
    address: str | None = None,
    detail: str | None = None,
) -> None:
    """Write one entry, in the caller's transaction (so the change and its entry commit together).

    ``actor``: a staff account, another named actor (e.g. ``api key booking``), or None for the
    command line on the server.
    """
    staff = actor if isinstance(actor, StaffAccount) else None
    label = actor.email if isinstance(actor, StaffAccount) else (actor or "cli")
    conn.execute(
        audit_log.insert().values(
            at=now,
            actor_id=staff.id if staff else None,
            actor=label[:320],
            action=action,
            object_type=object_type,
            object_id=object_id,
            center_code=center_code,
            address=(address or "")[:64] or None,
            detail=mask_personal_data(detail) if detail else None,
        )
    )


def read(
    conn: Connection, centers: Collection[str] | None, before_id: int | None = None, limit: int = PAGE_SIZE
) -> list[AuditEntry]:
    """Entries newest first; ``centers`` None: every entry, else those of these centres."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if centers is not None:
        query = query.where(audit_log.c.center_code.in_(sorted(centers)))
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    return [AuditEntry(**row) for row in conn.execute(query).mappings()]


def entries_for(conn: Connection, object_type: str, object_id: str, action: str) -> list[AuditEntry]:
    """The entries of one action on one object, oldest first (e.g. a campaign's approvals)."""
    query = (
        select(audit_log)
        .where(
            audit_log.c.object_type == object_type,
            audit_log.c.object_id == object_id,
            audit_log.c.action == action,
        )
        .order_by(audit_log.c.id)
    )
    return [AuditEntry(**row) for row in conn.execute(query).mappings()]
