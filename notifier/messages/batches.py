"""Messages written many at a time: new ones inserted, status changes each with its own values.

Workers claim and record messages in batches and a campaign's fan-out creates a thousand at
a time, so this runs for every message sent and is written for speed:

- PostgreSQL: one statement per batch. The per-message values travel as one array per column
  (``unnest``): a thousand rows as single values would be tens of thousands of parameters,
  costlier for the client to send than for the server to store. The history INSERT is fed by
  the RETURNING of a data-modifying CTE. A statement's text depends only on the columns (and
  target status), so it is built once and the server can keep it prepared.
- SQLite (and anything else): plain statements, the history entries inserted afterwards.

The arrays are typed ``VARCHAR[]``, never ``VARCHAR(n)[]``: PostgreSQL cuts a value short
without a word when it is cast to ``VARCHAR(n)`` explicitly, but refuses it when it is assigned
to a ``VARCHAR(n)`` column. A value too long for its column thus fails loudly here (the API
refuses it at the door first: its schemas' lengths are the columns').

``transition_each`` is the batch counterpart of ``messages.transition``, with the same rules:
a message moves only from a status the lifecycle allows (and ``only_from``), only while its
claim is the given one (``only_claimed_at``), and every move gets its history entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Executable,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from notifier.domain.message_status import Status, sources_of
from notifier.messages.tables import message_events, messages, status_of_rows_found_by_id
from notifier.storage.types import UTCDateTime


def transition_each(
    conn: Connection,
    new: Status,
    now: datetime,
    changes: Mapping[str, Mapping[str, Any]],
    *,
    details: Mapping[str, str | None] | None = None,
    only_from: Iterable[Status] | None = None,
    only_claimed_at: datetime | None = None,
) -> list[str]:
    """Move each message in ``changes`` (id -> the columns it sets) to ``new``; return those moved.

    A message whose status (or claim) no longer allows the move stays as it is. Each history
    entry carries the message's ``details`` entry.
    """
    sources = sources_of(new) if only_from is None else tuple(set(sources_of(new)) & set(only_from))
    by_columns: dict[tuple[str, ...], list[str]] = {}
    for message_id, values in changes.items():
        by_columns.setdefault(tuple(sorted(values)), []).append(message_id)
    moved: list[str] = []
    for columns, ids in by_columns.items():
        ids.sort()  # batches sharing messages take their row locks in one order, not crosswise
        given = {name: [changes[i][name] for i in ids] for name in columns}
        detail_of = [(details or {}).get(i) for i in ids]
        move = _move_postgresql if conn.dialect.name == "postgresql" else _move_portable
        moved += move(
            conn, new, now, ids, given, detail_of, sorted(s.value for s in sources), only_claimed_at
        )
    return moved


def _move_postgresql(
    conn: Connection,
    new: Status,
    now: datetime,
    ids: list[str],
    given: dict[str, list[Any]],
    detail_of: list[str | None],
    sources: list[str],
    only_claimed_at: datetime | None,
) -> list[str]:
    # A value every message shares travels once, not as an array of copies.
    shared = {name: values[0] for name, values in given.items() if _all_equal(values)}
    varying = {name: values for name, values in given.items() if name not in shared}
    one_detail = _all_equal(detail_of)
    statement = _statement_postgresql(
        new, tuple(varying), tuple(shared), one_detail, only_claimed_at is not None
    )
    params: dict[str, Any] = {
        "each_id": ids,
        "each_source": sources,
        "each_now": now,
        "each_claimed_at": only_claimed_at,
        **({"one_detail": detail_of[0]} if one_detail else {"each_detail": detail_of}),
        **{f"each_{name}": values for name, values in varying.items()},
        **{f"one_{name}": value for name, value in shared.items()},
    }
    return list(conn.execute(statement, params).scalars())


def _array_of(column: Column[Any]) -> ARRAY[Any]:
    """The array type a column's values travel in: its type without a length (see above)."""
    if isinstance(column.type, String) and column.type.length is not None:
        return ARRAY(String())
    return ARRAY(column.type)


def _all_equal(values: list[Any]) -> bool:
    return all(value == values[0] for value in values[1:])


@lru_cache(maxsize=128)
def _statement_postgresql(
    new: Status, varying: tuple[str, ...], shared: tuple[str, ...], one_detail: bool, guarded: bool
) -> Executable:
    """UPDATE ... FROM unnest(arrays) RETURNING, feeding INSERT INTO message_events: one statement."""
    per_message = [] if one_detail else ["detail"]
    per_message += varying
    given = (
        func.unnest(
            bindparam("each_id", type_=_array_of(messages.c.id)),
            *(
                bindparam(
                    f"each_{name}", type_=ARRAY(Text()) if name == "detail" else _array_of(messages.c[name])
                )
                for name in per_message
            ),
        )
        .table_valued("id", *per_message)
        .render_derived(name="given")
    )
    now = bindparam("each_now", type_=UTCDateTime())
    condition = and_(
        messages.c.id == given.c.id,
        status_of_rows_found_by_id() == any_(bindparam("each_source", type_=_array_of(messages.c.status))),
    )
    if guarded:
        condition = and_(
            condition, messages.c.claimed_at == bindparam("each_claimed_at", type_=UTCDateTime())
        )
    values: dict[str, Any] = {"status": new.value, "updated_at": now}
    values.update({name: given.c[name] for name in varying})
    values.update({name: bindparam(f"one_{name}", type_=messages.c[name].type) for name in shared})
    if one_detail:
        moved = update(messages).where(condition).values(values).returning(messages.c.id).cte("moved")
        detail: Any = bindparam("one_detail", type_=Text())
    else:
        moved = (
            update(messages)
            .where(condition)
            .values(values)
            .returning(messages.c.id, given.c.detail)
            .cte("moved")
        )
        detail = moved.c.detail
    entries = select(moved.c.id, literal(new.value), now, detail)
    return (
        message_events.insert()
        .from_select(["message_id", "status", "at", "detail"], entries)
        .returning(message_events.c.message_id)
    )


def _move_portable(
    conn: Connection,
    new: Status,
    now: datetime,
    ids: list[str],
    given: dict[str, list[Any]],
    detail_of: list[str | None],
    sources: list[str],
    only_claimed_at: datetime | None,
) -> list[str]:
    condition = and_(messages.c.id.in_(ids), messages.c.status.in_(sources))
    if only_claimed_at is not None:
        condition = and_(condition, messages.c.claimed_at == only_claimed_at)
    values: dict[str, Any] = {"status": new.value, "updated_at": now}
    for name, per_message in given.items():
        values[name] = _one_or_each(messages.c[name], dict(zip(ids, per_message, strict=True)))
    moved = list(
        conn.execute(update(messages).where(condition).values(values).returning(messages.c.id)).scalars()
    )
    if moved:
        detail = dict(zip(ids, detail_of, strict=True))
        conn.execute(
            message_events.insert(),
            [{"message_id": i, "status": new.value, "at": now, "detail": detail[i]} for i in moved],
        )
    return moved


def _one_or_each(column: Any, by_id: Mapping[str, Any]) -> Any:
    """The value to SET ``column`` to: the one value all messages share, or a CASE on the id."""
    values = list(by_id.values())
    if _all_equal(values):
        return values[0]
    return case({i: literal(v, column.type) for i, v in by_id.items()}, value=messages.c.id, else_=column)


def insert_new(
    conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime, details: Mapping[str, str | None]
) -> list[tuple[str, str]]:
    """Insert messages and their first history entries; return (id, status) of those inserted.

    All rows have the same columns. A row a unique index refuses is skipped; each history entry
    carries the message's ``details`` entry.
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    if conn.dialect.name == "postgresql":
        # A value every row shares (a campaign's owner, template, centre, times...) travels once:
        # the driver quotes each element of a text array on its own, which cost the fan-out
        # about half of its CPU when every column went as an array.
        given = {name: [row[name] for row in rows] for name in columns}
        shared = tuple(name for name in columns if name != "id" and _all_equal(given[name]))
        params = {f"each_{name}": values for name, values in given.items() if name not in shared}
        params.update({f"one_{name}": given[name][0] for name in shared})
        params["each_detail"] = [details.get(row["id"]) for row in rows]
        statement = _insert_statement_postgresql(columns, shared)
        return [(i, s) for i, s in conn.execute(statement, {**params, "each_now": now})]
    statement = insert(messages).prefix_with("OR IGNORE").returning(messages.c.id, messages.c.status)
    created = [(row[0], row[1]) for row in conn.execute(statement, list(rows))]
    if created:
        conn.execute(
            message_events.insert(),
            [{"message_id": i, "status": s, "at": now, "detail": details.get(i)} for i, s in created],
        )
    return created


@lru_cache(maxsize=64)
def _insert_statement_postgresql(columns: tuple[str, ...], shared: tuple[str, ...]) -> Executable:
    """INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING, feeding the history INSERT.

    The ``shared`` columns are one value for every row (``one_<name>``), the others arrays.
    """
    varying = [name for name in columns if name not in shared]
    given = (
        func.unnest(*(bindparam(f"each_{name}", type_=_array_of(messages.c[name])) for name in varying))
        .table_valued(*varying)
        .render_derived(name="given")
    )
    values = [
        cast(bindparam(f"one_{name}", type_=messages.c[name].type), messages.c[name].type)
        if name in shared
        else given.c[name]
        for name in columns
    ]
    new = (
        pg_insert(messages)
        .from_select(list(columns), select(*values))
        .on_conflict_do_nothing()
        .returning(messages.c.id, messages.c.status)
        .cte("new_message")
    )
    detail = (
        func.unnest(
            bindparam("each_id", type_=_array_of(messages.c.id)),
            bindparam("each_detail", type_=ARRAY(Text())),
        )
        .table_valued("id", "detail")
        .render_derived(name="detail_of")
    )
    entries = select(
        new.c.id, new.c.status, bindparam("each_now", type_=UTCDateTime()), detail.c.detail
    ).join(detail, detail.c.id == new.c.id)
    return (
        message_events.insert()
        .from_select(["message_id", "status", "at", "detail"], entries)
        .returning(message_events.c.message_id, message_events.c.status)
    )
