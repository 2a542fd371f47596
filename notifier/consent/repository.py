"""The SQL of the consent feature: stored recipients, opt-outs, and the consent feature's view
of messages (the latest one to an address; suppressing what an opt-out covers).

Phones are stored (and looked up) as E.164, emails lower-cased; opt-outs only as address hashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, not_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from notifier.consent.coverage import ADVERTISING, CONFIRMATION_TEMPLATE, OWN_CASE_PURPOSES
from notifier.consent.tables import opt_out_links, opt_outs, recipients
from notifier.domain.message_status import PENDING, Status
from notifier.messages import repository as message_repo
from notifier.messages.tables import messages


@dataclass(frozen=True)
class OptOutRecord:
    """One stored opt-out: an address hash and what it covers."""

    id: str
    address_hash: str
    channel: str
    scope: str
    source: str
    recorded_by: str | None
    created_at: datetime


# ---- recipients ------------------------------------------------------------------------------


def _address_column(channel: str) -> Any:
    return recipients.c.phone if channel == "sms" else recipients.c.email


def find_recipient(
    conn: Connection, owner: str, external_id: str, *, lock: bool = False
) -> RowMapping | None:
    """The recipient row (live or erased); with ``lock``, held until the transaction ends."""
    query = select(recipients).where(recipients.c.owner == owner, recipients.c.external_id == external_id)
    return conn.execute(query.with_for_update() if lock else query).mappings().first()


def insert_recipient(conn: Connection, **values: Any) -> None:
    conn.execute(recipients.insert().values(**values))


def update_recipient(conn: Connection, owner: str, external_id: str, **values: Any) -> None:
    key = and_(recipients.c.owner == owner, recipients.c.external_id == external_id)
    conn.execute(recipients.update().where(key).values(**values))


def find_by_addresses(
    conn: Connection, *, channel: str, addresses: Iterable[tuple[str, str]]
) -> list[RowMapping]:
    """Live recipients with any of these (owner, normalised phone or email) pairs: one query."""
    column = _address_column(channel)
    wanted = set(addresses)
    if not wanted:
        return []
    query = select(recipients).where(
        recipients.c.owner.in_(sorted({owner for owner, _ in wanted})),
        column.in_(sorted({address for _, address in wanted})),
        recipients.c.erased_at.is_(None),
    )
    found = conn.execute(query).mappings()
    return [row for row in found if (row["owner"], row["phone" if channel == "sms" else "email"]) in wanted]


def known_addresses(conn: Connection, owner: str, channel: str, addresses: Iterable[str]) -> set[str]:
    """Which of these normalised addresses a live recipient of ``owner`` has."""
    wanted = set(addresses)
    if not wanted:
        return set()
    column = _address_column(channel)
    query = select(column).where(
        recipients.c.owner == owner, recipients.c.erased_at.is_(None), column.in_(wanted)
    )
    return set(conn.execute(query).scalars())


def live_recipients(conn: Connection, owner: str, center: str | None, batch: int) -> Iterator[RowMapping]:
    """The owner's live recipients (of ``center`` if given) by external id, read ``batch`` at a time."""
    query = select(recipients).where(recipients.c.owner == owner, recipients.c.erased_at.is_(None))
    if center:
        query = query.where(recipients.c.center == center)
    result = conn.execute(query.order_by(recipients.c.external_id).execution_options(yield_per=batch))
    yield from result.mappings()


def external_ids_by_owner(conn: Connection, channel: str, address: str) -> dict[str, str]:
    """owner -> external id of every recipient stored with this normalised address."""
    column = _address_column(channel)
    query = select(recipients.c.owner, recipients.c.external_id).where(column == address)
    return {owner: external_id for owner, external_id in conn.execute(query)}


# ---- opt-outs --------------------------------------------------------------------------------


def _opt_out(row: RowMapping) -> OptOutRecord:
    return OptOutRecord(
        id=row["id"],
        address_hash=row["address_hash"],
        channel=row["channel"],
        scope=row["scope"],
        source=row["source"],
        recorded_by=row["recorded_by"],
        created_at=row["created_at"],
    )


def insert_opt_out(conn: Connection, opt_out: OptOutRecord) -> None:
    conn.execute(
        opt_outs.insert().values(
            id=opt_out.id,
            address_hash=opt_out.address_hash,
            channel=opt_out.channel,
            scope=opt_out.scope,
            source=opt_out.source,
            recorded_by=opt_out.recorded_by,
            created_at=opt_out.created_at,
        )
    )


def opt_out_in_force(conn: Connection, digest: str, scope: str) -> OptOutRecord | None:
    """The earliest opt-out of this address hash that already covers ``scope``."""
    query = (
        select(opt_outs)
        .where(opt_outs.c.address_hash == digest, opt_outs.c.scope.in_({scope, "all"}))
        .order_by(opt_outs.c.created_at)
    )
    row = conn.execute(query).mappings().first()
    return _opt_out(row) if row else None


def opt_out_records(conn: Connection, digest: str) -> list[OptOutRecord]:
    """Every opt-out of this address hash, oldest first."""
    query = select(opt_outs).where(opt_outs.c.address_hash == digest).order_by(opt_outs.c.created_at)
    return [_opt_out(row) for row in conn.execute(query).mappings()]


def opt_outs_of(conn: Connection, digests: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """The (scope, source) of every opt-out of each address hash, oldest first: one query."""
    query = (
        select(opt_outs.c.address_hash, opt_outs.c.scope, opt_outs.c.source)
        .where(opt_outs.c.address_hash.in_(sorted(set(digests))))
        .order_by(opt_outs.c.created_at)
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for digest, scope, source in conn.execute(query):
        found.setdefault(digest, []).append((scope, source))
    return found


def opted_out_hashes(conn: Connection, digests: Iterable[str]) -> set[str]:
    """Which of these address hashes have an opt-out of any scope."""
    query = select(opt_outs.c.address_hash).where(opt_outs.c.address_hash.in_(set(digests)))
    return set(conn.execute(query).scalars())


# ---- messages, as the consent feature sees them ----------------------------------------------


def _covered_clause(scope: str) -> ColumnElement[bool]:
    """``coverage.is_covered`` as SQL over the messages table (the two must agree)."""
    advertising = messages.c.category == ADVERTISING
    exempt = or_(
        messages.c.purpose.in_(sorted(OWN_CASE_PURPOSES)), messages.c.template_key == CONFIRMATION_TEMPLATE
    )
    if scope == ADVERTISING:
        return advertising
    return or_(advertising, and_(messages.c.campaign_id.is_not(None), not_(exempt)))


def _to_address(channel: str, normalised: str) -> ColumnElement[bool]:
    if channel == "sms":  # an AlimTalk reaches the phone too (and its fallback is an SMS)
        return and_(messages.c.channel.in_(("sms", "kakao")), messages.c.to_phone == normalised)
    return and_(messages.c.channel == "email", func.lower(messages.c.to_email) == normalised)


def suppress_covered_messages(
    conn: Connection, channel: str, normalised: str, scope: str, now: datetime, detail: str
) -> list[str]:
    """Suppress the pending messages to this address that an opt-out of ``scope`` covers.

    A claimed (``sending``) message is left to its worker, which looks again right before
    the provider call (``messages.sending``); moving it here could overwrite a send under way.
    """
    condition = and_(_to_address(channel, normalised), _covered_clause(scope))
    return message_repo.transition_many(
        conn, condition, Status.SUPPRESSED, now, detail=detail, only_from=PENDING
    )


def covered_in_flight(conn: Connection, channel: str, normalised: str, scope: str) -> int:
    """How many claimed (``sending``) messages to this address an opt-out of ``scope`` covers."""
    condition = and_(
        messages.c.status == Status.SENDING.value, _to_address(channel, normalised), _covered_clause(scope)
    )
    return int(conn.execute(select(func.count()).select_from(messages).where(condition)).scalar_one())


def latest_message_to(conn: Connection, channel: str, address: str, owner: str | None) -> RowMapping | None:
    """The latest message to this normalised address (of ``owner``, if given)."""
    column = messages.c.to_phone if channel == "sms" else func.lower(messages.c.to_email)
    channels = ("sms", "kakao") if channel == "sms" else (channel,)
    query = select(messages).where(messages.c.channel.in_(channels), column == address)
    if owner:
        query = query.where(messages.c.owner == owner)
    return conn.execute(query.order_by(messages.c.created_at.desc()).limit(1)).mappings().first()


def owners_of_messages(conn: Connection, message_ids: Iterable[str]) -> set[str]:
    ids = list(message_ids)
    if not ids:
        return set()
    query = select(messages.c.owner).where(messages.c.id.in_(ids)).distinct()
    return set(conn.execute(query).scalars())


# ---- opt-out links ---------------------------------------------------------------------------


def store_opt_out_link(conn: Connection, **values: Any) -> None:
    """Store what a link's token stands for; a token already stored is left as it is."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(dialect_insert(opt_out_links).values(**values).on_conflict_do_nothing())


def find_opt_out_link(conn: Connection, token: str) -> RowMapping | None:
    return conn.execute(select(opt_out_links).where(opt_out_links.c.token == token)).mappings().first()


def delete_opt_out_links(conn: Connection, owner: str, addresses: Iterable[str]) -> int:
    """Forget the owner's links to these normalised addresses (the recipient was erased)."""
    wanted = [a for a in addresses if a]
    if not wanted:
        return 0
    query = delete(opt_out_links).where(opt_out_links.c.owner == owner, opt_out_links.c.address.in_(wanted))
    return conn.execute(query).rowcount
