"""Finding messages for the staff console: by address, reference, status, channel and dates,
limited to the centres a staff member may see, newest first, a keyset page at a time.

Each search starts from an index: the address (``ix_messages_to_phone``,
``ix_messages_to_email_lower``: an email matches whatever its case), or the centre and time
(``ix_messages_center_created``), or time alone for the ministry (``ix_messages_created``);
the other conditions filter what that range yields.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, func, select
from sqlalchemy.engine import RowMapping

from notifier.messages import repository as repo
from notifier.messages.tables import messages
from notifier.messages.views import decode_cursor, encode_cursor
from notifier.storage.paging import newest_first

PAGE_SIZE = 50
LISTED = (
    messages.c.id,
    messages.c.created_at,
    messages.c.channel,
    messages.c.status,
    messages.c.to_phone,
    messages.c.to_email,
    messages.c.reference,
    messages.c.center_code,
    messages.c.template_key,
    messages.c.error_code,
)


@dataclass(frozen=True)
class MessageSearch:
    """What to look for; ``centers`` None means every centre. ``phone`` in E.164."""

    centers: Collection[str] | None
    phone: str | None = None
    email: str | None = None
    reference: str | None = None
    status: str | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.centers is not None:
            found.append(messages.c.center_code.in_(sorted(self.centers)))
        if self.phone:
            found.append(messages.c.to_phone == self.phone)
        if self.email:
            found.append(func.lower(messages.c.to_email) == self.email.strip().lower())
        if self.reference:
            found.append(messages.c.reference == self.reference)
        if self.status:
            found.append(messages.c.status == self.status)
        if self.channel:
            found.append(messages.c.channel == self.channel)
        if self.since:
            found.append(messages.c.created_at >= self.since)
        if self.until:
            found.append(messages.c.created_at < self.until)
        return found


def search(
    conn: Connection, query: MessageSearch, cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[RowMapping], str | None]:
    """One page of matching messages, newest first, and the cursor of the next page (or None)."""
    after = decode_cursor(cursor) if cursor else None
    statement = newest_first(select(*LISTED).where(*query.conditions()), messages, after, limit + 1)
    rows = list(conn.execute(statement).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None


def detail(conn: Connection, message_id: str) -> tuple[RowMapping, list[RowMapping]] | None:
    """A message and its history, or None."""
    row = repo.get(conn, message_id)
    if row is None:
        return None
    return row, repo.history(conn, message_id)
