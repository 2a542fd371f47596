"""The conditional UPDATE that enforces a status table: it moves only rows in an allowed status."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, update


def move_where(
    conn: Connection,
    table: Table,
    condition: ColumnElement[bool],
    new: StrEnum,
    sources: Iterable[StrEnum],
    **values: Any,
) -> list[str]:
    """Move the rows matching ``condition`` whose status is in ``sources`` to ``new``; return their ids."""
    allowed = sorted(source.value for source in sources)
    result = conn.execute(
        update(table)
        .where(and_(condition, table.c.status.in_(allowed)))
        .values(status=new.value, **values)
        .returning(table.c.id)
    )
    return [row[0] for row in result]
