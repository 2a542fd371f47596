"""Console sessions kept in the database, so signing out ends them for good.

The browser holds a random token (cookie ``HttpOnly``, ``SameSite=Lax``, ``Secure`` outside
development); the table holds its hash. A session unused for ``IDLE_TIMEOUT`` is over; its
``last_seen_at`` is written at most once per ``TOUCH_EVERY``, not on every page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update

from notifier.staff import accounts
from notifier.staff.accounts import StaffAccount
from notifier.staff.tables import staff_sessions
from notifier.staff.tokens import new_token, token_hash

IDLE_TIMEOUT = timedelta(minutes=30)
TOUCH_EVERY = timedelta(minutes=1)


def start(conn: Connection, account: StaffAccount, address: str, now: datetime) -> str:
    """Open a session for ``account``; return the token for the cookie."""
    token = new_token()
    conn.execute(
        staff_sessions.insert().values(
            token_hash=token_hash(token),
            staff_id=account.id,
            created_at=now,
            last_seen_at=now,
            address=address[:64],
        )
    )
    return token


def resume(
    conn: Connection, token: str, now: datetime, idle: timedelta = IDLE_TIMEOUT
) -> StaffAccount | None:
    """The account of a live session, or None (unknown, idle too long, or the account disabled)."""
    digest = token_hash(token)
    row = conn.execute(select(staff_sessions).where(staff_sessions.c.token_hash == digest)).mappings().first()
    if row is None:
        return None
    if now - row["last_seen_at"] > idle:
        conn.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == digest))
        return None
    if now - row["last_seen_at"] >= TOUCH_EVERY:
        conn.execute(
            update(staff_sessions).where(staff_sessions.c.token_hash == digest).values(last_seen_at=now)
        )
    return accounts.get(conn, row["staff_id"])


def end(conn: Connection, token: str) -> None:
    """Sign out: the token stops working."""
    conn.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == token_hash(token)))


def end_all(conn: Connection, account_id: str) -> None:
    """End every session of an account (its password changed)."""
    conn.execute(delete(staff_sessions).where(staff_sessions.c.staff_id == account_id))
