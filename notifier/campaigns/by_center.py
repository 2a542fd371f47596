"""Campaigns as a centre sees them (the staff console): a page of a centre's campaigns with
their counts, and the centre a campaign belongs to.

A campaign belongs to the centre that sends it (``campaigns.center``, the code in its stored
identity), whoever created it: the console or an API key. ``centers`` None means every centre.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.engine import RowMapping

from notifier.campaigns import repository as campaign_repo
from notifier.campaigns.tables import campaigns
from notifier.campaigns.views import campaign_view
from notifier.storage.paging import newest_first


def center_of(row: RowMapping) -> str | None:
    """The code of the centre that sends the campaign."""
    code = (row["center"] or {}).get("code")
    return str(code) if code else None


def page(
    conn: Connection, centers: Collection[str] | None, *, limit: int, after: tuple[datetime, str] | None
) -> tuple[list[dict[str, Any]], bool]:
    """The campaigns of ``centers`` newest first, as their public views; and whether more follow."""
    query = select(campaigns)
    if centers is not None:
        query = query.where(campaigns.c.center["code"].as_string().in_(sorted(centers)))
    rows = list(conn.execute(newest_first(query, campaigns, after, limit + 1)).mappings())
    views = [campaign_view(row, campaign_repo.message_counts(conn, row["id"])) for row in rows[:limit]]
    return views, len(rows) > limit
