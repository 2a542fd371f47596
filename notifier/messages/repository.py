"""Message rows and their history. Every status change goes through ``transition``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Text, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from notifier.domain.erasure import ERASED, Person, scrub
from notifier.domain.message_status import Status, sources_of
from notifier.messages.tables import idempotency_keys, message_events, messages
from notifier.storage.paging import newest_first


def insert_one(
    engine: Engine,
    row: Mapping[str, Any],
    now: datetime,
    record: Mapping[str, Any] | None = None,
    detail: str | None = None,
) -> bool:
    """Insert one new message, its first history entry and its idempotency record, or none.

    False (and nothing stored) when the record's key is already stored. On PostgreSQL this is one
    statement (the message and the record as data-modifying CTEs, the event inserted from the
    message's RETURNING) in autocommit mode: one round trip, where BEGIN, three INSERTs and
    COMMIT take five. A statement is atomic on its own. SQLite has no data-modifying CTEs and
    takes ``insert_accepted``'s path.
    """
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            return insert_accepted(conn, [(row, now, record)], [detail])[0]
    values = {**row, "created_at": now, "updated_at": now}
    params = {**values, **{f"idempotency_{k}": v for k, v in (record or {}).items()}, "event_detail": detail}
    statement = _insert_one_statement(tuple(sorted(values)), record is not None)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(statement, params)
    except IntegrityError as exc:
        if record is None or not unique_violation_on(exc, "idempotency_keys"):
            raise
        return False
    return True


def unique_violation_on(exc: IntegrityError, table: str) -> bool:
    """True when PostgreSQL refused a duplicate key in ``table`` (SQLSTATE 23505)."""
    diag = getattr(exc.orig, "diag", None)
    return getattr(exc.orig, "sqlstate", None) == "23505" and getattr(diag, "table_name", None) == table


def exists(engine: Engine, message_id: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(messages.c.id).where(messages.c.id == message_id)).first() is not None


@lru_cache(maxsize=16)
def _insert_one_statement(columns: tuple[str, ...], with_record: bool) -> Executable:
    """``insert_one``'s statement for a message with ``columns`` (built once per column set)."""
    new = (
        messages.insert()
        .values({name: bindparam(name, type_=messages.c[name].type) for name in columns})
        .returning(messages.c.id, messages.c.status, messages.c.created_at)
        .cte("new_message")
    )
    statement = message_events.insert().from_select(
        ["message_id", "status", "at", "detail"],
        select(new.c.id, new.c.status, new.c.created_at, bindparam("event_detail", type_=Text())),
    )
    if with_record:
        record = idempotency_keys.insert().values(
            {c.name: bindparam(f"idempotency_{c.name}", type_=c.type) for c in idempotency_keys.columns}
        )
        statement = statement.add_cte(record.cte("new_idempotency_key"))
    return statement


def insert_accepted(
    conn: Connection,
    items: Sequence[tuple[Mapping[str, Any], datetime, Mapping[str, Any] | None]],
    details: Sequence[str | None] | None = None,
) -> list[bool]:
    """Insert new messages, their first history entries and their idempotency records.

    ``items`` are (message row, time, idempotency record or None); ``details``, if given, the
    first history entry's detail of each. A message whose record's
    (owner, key) is already stored, or comes earlier in ``items``, is not inserted: the answer
    per item says whether it was. Three statements whatever the number of items.
    """
    claimed = _insert_new_records(conn, [record for _row, _now, record in items if record is not None])
    outcomes = []
    seen: set[tuple[str, str]] = set()
    for _row, _now, record in items:
        stored = True
        if record is not None:
            key = (record["owner"], record["key"])
            stored = key in claimed and key not in seen
            seen.add(key)
        outcomes.append(stored)
    detail_of = list(details) if details is not None else [None] * len(items)
    kept = [(*item, d) for item, d, stored in zip(items, detail_of, outcomes, strict=True) if stored]
    if kept:
        conn.execute(
            messages.insert(), [{**row, "created_at": now, "updated_at": now} for row, now, _, _ in kept]
        )
        conn.execute(
            message_events.insert(),
            [
                {"message_id": row["id"], "status": row["status"], "at": now, "detail": d}
                for row, now, _, d in kept
            ],
        )
    return outcomes


def _insert_new_records(conn: Connection, records: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """Insert the idempotency records whose key is new; returns the (owner, key) pairs inserted."""
    unique: dict[tuple[str, str], Mapping[str, Any]] = {}
    for record in records:
        unique.setdefault((record["owner"], record["key"]), record)
    if not unique:
        return set()
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(idempotency_keys)
        .on_conflict_do_nothing(index_elements=["owner", "key"])
        .returning(idempotency_keys.c.owner, idempotency_keys.c.key)
    )
    result = conn.execute(statement, [dict(r) for r in unique.values()])
    return {(row.owner, row.key) for row in result}


def insert_many(conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime) -> None:
    if not rows:
        return
    conn.execute(messages.insert(), [{**r, "created_at": now, "updated_at": now} for r in rows])
    conn.execute(
        message_events.insert(),
        [{"message_id": r["id"], "status": r["status"], "at": now, "detail": None} for r in rows],
    )


def get(conn: Connection, message_id: str) -> RowMapping | None:
    return conn.execute(select(messages).where(messages.c.id == message_id)).mappings().first()


def history(conn: Connection, message_id: str) -> list[RowMapping]:
    query = (
        select(message_events.c.status, message_events.c.at, message_events.c.detail)
        .where(message_events.c.message_id == message_id)
        .order_by(message_events.c.id)
    )
    return list(conn.execute(query).mappings())


def transition(
    conn: Connection,
    message_id: str,
    new: Status,
    now: datetime,
    *,
    detail: str | None = None,
    only_from: Iterable[Status] | None = None,
    extra_where: Any = None,
    **values: Any,
) -> bool:
    """Move one message to ``new`` if the lifecycle allows it from its current status.

    One conditional UPDATE: of two racing callers exactly one wins. Returns whether it moved.
    """
    allowed = set(sources_of(new))
    if only_from is not None:
        allowed &= set(only_from)
    condition = and_(messages.c.id == message_id, messages.c.status.in_([s.value for s in allowed]))
    if extra_where is not None:
        condition = and_(condition, extra_where)
    result = conn.execute(
        update(messages).where(condition).values(status=new.value, updated_at=now, **values)
    )
    if result.rowcount != 1:
        return False
    conn.execute(
        message_events.insert().values(message_id=message_id, status=new.value, at=now, detail=detail)
    )
    return True


def note(conn: Connection, message_id: str, status: Status, now: datetime, detail: str) -> None:
    """Add a history entry that changes no status (e.g. an AlimTalk handed to its SMS fallback)."""
    entry = message_events.insert().values(message_id=message_id, status=status.value, at=now, detail=detail)
    conn.execute(entry)


def transition_many(
    conn: Connection,
    condition: Any,
    new: Status,
    now: datetime,
    *,
    detail: str | None = None,
    only_from: Iterable[Status] | None = None,
    **values: Any,
) -> list[str]:
    """Move every message matching ``condition`` (and allowed to) to ``new``; return their ids."""
    sources = set(sources_of(new)) if only_from is None else set(sources_of(new)) & set(only_from)
    allowed = [s.value for s in sources]
    result = conn.execute(
        update(messages)
        .where(and_(condition, messages.c.status.in_(allowed)))
        .values(status=new.value, updated_at=now, **values)
        .returning(messages.c.id)
    )
    ids = [row[0] for row in result]
    if ids:
        conn.execute(
            message_events.insert(),
            [{"message_id": i, "status": new.value, "at": now, "detail": detail} for i in ids],
        )
    return ids


def page(
    conn: Connection,
    owner: str,
    *,
    status: str | None,
    reference: str | None,
    limit: int,
    after: tuple[datetime, str] | None,
    campaign_id: str | None = None,
) -> list[RowMapping]:
    """Newest first, keyset-paged on (created_at, id)."""
    query = select(messages).where(messages.c.owner == owner)
    if status:
        query = query.where(messages.c.status == status)
    if reference:
        query = query.where(messages.c.reference == reference)
    if campaign_id:
        query = query.where(messages.c.campaign_id == campaign_id)
    return list(conn.execute(newest_first(query, messages, after, limit)).mappings())


def find_by_provider_id(conn: Connection, provider_message_id: str) -> RowMapping | None:
    query = select(messages).where(messages.c.provider_message_id == provider_message_id)
    return conn.execute(query).mappings().first()


def ids_where(conn: Connection, condition: Any, limit: int) -> list[str]:
    query = select(messages.c.id).where(condition).order_by(messages.c.send_at).limit(limit)
    return [row[0] for row in conn.execute(query)]


def erase_recipient(conn: Connection, person: Person, now: datetime) -> int:
    """Remove a person's data from the owner's messages; what was not sent yet is cancelled.

    Statuses, times and template versions stay (they say nothing about the person), so counts
    and delivery statistics still add up. History details and the stored answers to
    idempotent requests that name the person are erased too.
    """
    from notifier.channels.outbox import outbox

    addressed = [
        c
        for c in (
            messages.c.to_phone == person.phone if person.phone else None,
            func.lower(messages.c.to_email) == person.email if person.email else None,
        )
        if c is not None
    ]
    if not addressed:
        return 0
    theirs = and_(messages.c.owner == person.owner, or_(*addressed))
    transition_many(conn, theirs, Status.CANCELLED, now, detail="the recipient's data was erased")
    ids = [row[0] for row in conn.execute(select(messages.c.id).where(theirs))]
    if not ids:
        return 0
    scrub_personal_data(conn, ids, now)
    events = select(message_events.c.id, message_events.c.detail).where(
        message_events.c.message_id.in_(ids), message_events.c.detail.is_not(None)
    )
    for event_id, detail in conn.execute(events).all():
        if person.is_named_in(detail):
            conn.execute(update(message_events).where(message_events.c.id == event_id).values(detail=ERASED))
    answers = select(idempotency_keys.c.key, idempotency_keys.c.response).where(
        idempotency_keys.c.owner == person.owner, idempotency_keys.c.response["id"].as_string().in_(ids)
    )
    for key, response in conn.execute(answers).all():
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.owner == person.owner, idempotency_keys.c.key == key)
            .values(response=scrub(response, person))
        )
    conn.execute(outbox.delete().where(outbox.c.message_id.in_(ids)))
    return len(ids)


def scrub_personal_data(conn: Connection, ids: list[str], now: datetime) -> None:
    """Remove what names a person from these messages: addresses, name, content, data."""
    conn.execute(
        update(messages)
        .where(messages.c.id.in_(ids))
        .values(
            to_phone=None,
            to_email=None,
            to_name="",
            subject=None,
            body=ERASED,
            html=None,
            data={},
            attachments=None,
            error_reason=None,
            updated_at=now,
        )
    )


def count_with_reference(conn: Connection, owner: str, reference: str) -> int:
    """How many of the owner's messages carry this reference (``ix_messages_reference``)."""
    query = select(func.count()).where(messages.c.owner == owner, messages.c.reference == reference)
    return int(conn.execute(query).scalar_one())
