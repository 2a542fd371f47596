"""Keyset paging, newest first: the one way lists of the API page through a table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, or_


def newest_first(
    query: Select[Any], table: Table, after: tuple[datetime, str] | None, limit: int
) -> Select[Any]:
    """Order ``query`` by (created_at, id) descending, after the cursor ``after``, ``limit`` rows."""
    if after is not None:
        created, last_id = after
        query = query.where(
            or_(table.c.created_at < created, and_(table.c.created_at == created, table.c.id < last_id))
        )
    return query.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit)
