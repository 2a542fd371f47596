"""The SQL of the campaign feature: campaigns, their recipients and rejected rows, and the
campaign's view of its messages (counts by status, what is still pending).

A campaign's status changes only through ``transition``/``transition_many``: one conditional
UPDATE whose WHERE lists the statuses the lifecycle (``notifier.domain.campaign_status``)
allows the new one from, so of two racing callers exactly one wins.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, select, update
from sqlalchemy.engine import RowMapping

from notifier.campaigns.tables import campaign_recipients, campaign_rejections, campaigns
from notifier.domain.campaign_status import CampaignStatus, campaign_sources_of
from notifier.domain.message_status import PENDING as PENDING_STATUSES
from notifier.domain.message_status import Status
from notifier.messages import repository as message_repo
from notifier.messages.tables import messages, status_of_rows_found_by_id
from notifier.storage.paging import newest_first
from notifier.storage.transitions import move_where

# Message statuses of a campaign's messages not yet handed to a worker, and not yet final.
PENDING = [s.value for s in PENDING_STATUSES]
UNFINISHED = [*PENDING, Status.SENDING.value]


@dataclass(frozen=True)
class CampaignRecipient:
    """One usable (or excluded) address of a campaign, as stored after the upload's checks."""

    row_no: int
    address: str
    channel: str
    phone: str | None
    email: str | None
    name: str
    locale: str
    data: dict[str, Any]
    excluded: str | None


@dataclass(frozen=True)
class StoredCounts:
    """What the validation report counts, read from the stored list."""

    by_exclusion: dict[str | None, int]
    # (channel, SMS/LMS or None) -> (messages, segments), of the rows that will be sent
    by_class: dict[tuple[str, str | None], tuple[int, int]]
    rejected: int
    first_rejections: list[tuple[int, str]]


def _recipient(row: RowMapping) -> CampaignRecipient:
    return CampaignRecipient(
        row_no=row["row_no"],
        address=row["address"],
        channel=row["channel"],
        phone=row["phone"],
        email=row["email"],
        name=row["name"],
        locale=row["locale"],
        data=dict(row["data"] or {}),
        excluded=row["excluded"],
    )


# ---- campaigns -------------------------------------------------------------------------------


def insert_campaign(conn: Connection, **values: Any) -> None:
    conn.execute(campaigns.insert().values(**values))


def set_report(conn: Connection, campaign_id: str, report: dict[str, Any]) -> None:
    conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(report=report))


def find(
    conn: Connection, campaign_id: str, *, lock: bool = False, skip_locked: bool = False
) -> RowMapping | None:
    """The campaign's row; with ``lock``, held until the transaction ends. With ``skip_locked``
    too, None at once if another transaction holds it (PostgreSQL; SQLite has no row locks)."""
    query = select(campaigns).where(campaigns.c.id == campaign_id)
    if lock:
        query = query.with_for_update(skip_locked=skip_locked)
    return conn.execute(query).mappings().first()


def page(
    conn: Connection, owner: str | None, *, limit: int, after: tuple[datetime, str] | None
) -> list[RowMapping]:
    """Campaigns of ``owner`` (of everyone when None), newest first, keyset-paged on (created_at, id)."""
    query = select(campaigns)
    if owner is not None:
        query = query.where(campaigns.c.owner == owner)
    return list(conn.execute(newest_first(query, campaigns, after, limit)).mappings())


def transition(
    conn: Connection,
    campaign_id: str,
    new: CampaignStatus,
    now: datetime,
    *,
    only_from: Iterable[CampaignStatus] | None = None,
    **values: Any,
) -> bool:
    """Move one campaign to ``new`` if its lifecycle allows it from its current status."""
    return bool(transition_many(conn, campaigns.c.id == campaign_id, new, now, only_from=only_from, **values))


def transition_many(
    conn: Connection,
    condition: ColumnElement[bool],
    new: CampaignStatus,
    now: datetime,
    *,
    only_from: Iterable[CampaignStatus] | None = None,
    **values: Any,
) -> list[str]:
    """Move every campaign matching ``condition`` (and allowed to) to ``new``; return their ids."""
    sources = set(campaign_sources_of(new))
    if only_from is not None:
        sources &= set(only_from)
    return move_where(conn, campaigns, condition, new, sources, updated_at=now, **values)


def start_due(conn: Connection, now: datetime) -> list[str]:
    """Move the scheduled campaigns whose time has come to running."""
    return transition_many(
        conn,
        campaigns.c.send_at <= now,
        CampaignStatus.RUNNING,
        now,
        only_from=[CampaignStatus.SCHEDULED],
        started_at=now,
    )


def finish_done(conn: Connection, now: datetime, campaign_ids: Collection[str] | None) -> list[str]:
    """Finish the running campaigns whose fan-out is complete and which have no unfinished message."""
    unfinished = (
        select(messages.c.id)
        .where(messages.c.campaign_id == campaigns.c.id, messages.c.status.in_(UNFINISHED))
        .exists()
    )
    condition = and_(campaigns.c.fanned_out.is_(True), ~unfinished)
    if campaign_ids is not None:
        condition = and_(campaigns.c.id.in_(sorted(campaign_ids)), condition)
    return transition_many(conn, condition, CampaignStatus.FINISHED, now, finished_at=now)


def ids_to_fan_out(conn: Connection) -> list[str]:
    """Running campaigns whose fan-out is not complete, the longest running first."""
    query = (
        select(campaigns.c.id)
        .where(campaigns.c.status == CampaignStatus.RUNNING.value, campaigns.c.fanned_out.is_(False))
        .order_by(campaigns.c.started_at)
    )
    return list(conn.execute(query).scalars())


def record_fanout(
    conn: Connection, campaign_id: str, now: datetime, *, after: int | None, fanned_out: bool
) -> None:
    """Remember how far the fan-out got (every recipient up to row ``after`` has its message)."""
    values: dict[str, Any] = {"fanned_out": fanned_out, "updated_at": now}
    if after is not None:
        values["fanout_after"] = after
    conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**values))


def cancelled_since_with_pending(conn: Connection, since: datetime) -> list[str]:
    """Campaigns cancelled after ``since`` that still hold messages not handed to a worker."""
    recent = and_(
        campaigns.c.status == CampaignStatus.CANCELLED.value,
        campaigns.c.cancelled_at > since,
    )
    ids = list(conn.execute(select(campaigns.c.id).where(recent)).scalars())
    return [i for i in ids if has_pending_messages(conn, i)]


# ---- recipients and rejected rows ----------------------------------------------------------


def next_recipients(conn: Connection, campaign_id: str, after: int, limit: int) -> list[CampaignRecipient]:
    """The next ``limit`` recipients to be sent to, after row ``after``, in row order."""
    cr = campaign_recipients
    query = (
        select(cr)
        .where(cr.c.campaign_id == campaign_id, cr.c.row_no > after, cr.c.excluded.is_(None))
        .order_by(cr.c.row_no)
        .limit(limit)
    )
    return [_recipient(row) for row in conn.execute(query).mappings()]


def first_recipient(conn: Connection, campaign_id: str) -> CampaignRecipient | None:
    """The first recipient who will be sent to (what a test send looks like)."""
    found = next_recipients(conn, campaign_id, -1, 1)
    return found[0] if found else None


def insert_recipients(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert recipient rows; a second row with an address already stored is merged (skipped)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(campaign_recipients).on_conflict_do_nothing(), rows)
    else:
        conn.execute(insert(campaign_recipients).prefix_with("OR IGNORE"), rows)


def insert_rejections(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(campaign_rejections), rows)


def rejections_after(
    conn: Connection, campaign_id: str, after: int, limit: int
) -> list[tuple[int, str, str]]:
    """The next ``limit`` rejected rows (row, reason, raw) after row ``after``."""
    cj = campaign_rejections
    query = (
        select(cj.c.row_no, cj.c.reason, cj.c.raw)
        .where(cj.c.campaign_id == campaign_id, cj.c.row_no > after)
        .order_by(cj.c.row_no)
        .limit(limit)
    )
    return [(row_no, reason, raw or "") for row_no, reason, raw in conn.execute(query)]


def stored_counts(conn: Connection, campaign_id: str, first_rejections: int) -> StoredCounts:
    """Count what the upload stored, for the validation report."""
    cr = campaign_recipients
    by_exclusion: dict[str | None, int] = {
        excluded: int(n)
        for excluded, n in conn.execute(
            select(cr.c.excluded, func.count()).where(cr.c.campaign_id == campaign_id).group_by(cr.c.excluded)
        )
    }
    sizes = conn.execute(
        select(cr.c.channel, cr.c.kr_class, func.count(), func.coalesce(func.sum(cr.c.segments), 0))
        .where(cr.c.campaign_id == campaign_id, cr.c.excluded.is_(None))
        .group_by(cr.c.channel, cr.c.kr_class)
    ).all()
    rejected = conn.execute(
        select(func.count()).where(campaign_rejections.c.campaign_id == campaign_id)
    ).scalar_one()
    first = conn.execute(
        select(campaign_rejections.c.row_no, campaign_rejections.c.reason)
        .where(campaign_rejections.c.campaign_id == campaign_id)
        .order_by(campaign_rejections.c.row_no)
        .limit(first_rejections)
    ).all()
    return StoredCounts(
        by_exclusion=by_exclusion,
        by_class={(channel, kr): (int(n), int(segments)) for channel, kr, n, segments in sizes},
        rejected=int(rejected),
        first_rejections=[(row_no, reason) for row_no, reason in first],
    )


# ---- the campaign's messages -----------------------------------------------------------------


def message_counts(conn: Connection, campaign_id: str) -> dict[str, int]:
    """How many of the campaign's messages are in each status."""
    rows = conn.execute(
        select(messages.c.status, func.count())
        .where(messages.c.campaign_id == campaign_id)
        .group_by(messages.c.status)
    ).all()
    return {status: int(n) for status, n in rows}


def accepted_counts(conn: Connection, campaign_id: str) -> dict[tuple[str | None, str | None], int]:
    """How many of the campaign's SMS a provider accepted, per (provider, SMS class)."""
    rows = conn.execute(
        select(messages.c.provider, messages.c.kr_class, func.count())
        .where(
            messages.c.campaign_id == campaign_id,
            messages.c.channel == "sms",
            messages.c.provider_message_id.is_not(None),
        )
        .group_by(messages.c.provider, messages.c.kr_class)
    ).all()
    return {(provider, kind): int(n) for provider, kind, n in rows}


def queued_message_count(conn: Connection, campaign_id: str) -> int:
    """How many of the campaign's messages wait in the queue for a worker."""
    query = select(func.count()).where(
        messages.c.campaign_id == campaign_id, messages.c.status == Status.QUEUED.value
    )
    return int(conn.execute(query).scalar_one())


def has_pending_messages(conn: Connection, campaign_id: str) -> bool:
    query = (
        select(messages.c.id)
        .where(messages.c.campaign_id == campaign_id, messages.c.status.in_(PENDING))
        .limit(1)
    )
    return conn.execute(query).first() is not None


def cancel_pending_messages(
    conn: Connection, campaign_id: str, limit: int, now: datetime, detail: str
) -> list[str]:
    """Cancel up to ``limit`` of the campaign's messages not yet handed to a worker."""
    batch = (
        select(messages.c.id)
        .where(messages.c.campaign_id == campaign_id, messages.c.status.in_(PENDING))
        .limit(limit)
        .scalar_subquery()
    )
    return message_repo.transition_many(conn, messages.c.id.in_(batch), Status.CANCELLED, now, detail=detail)


def hold_queued_messages(conn: Connection, message_ids: Collection[str], until: datetime) -> None:
    """Move the send time of queued messages to ``until`` (the claim then schedules them)."""
    conn.execute(
        update(messages)
        .where(messages.c.id.in_(message_ids), status_of_rows_found_by_id() == Status.QUEUED.value)
        .values(send_at=until)
    )
