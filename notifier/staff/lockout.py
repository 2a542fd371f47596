"""Limits on failed sign-ins, per account and per address.

Threat: guessing passwords, slowly for one account or across many accounts from one address.
Each failure is a row; a sign-in is refused while an account has ``ACCOUNT_LIMIT`` failures, or
an address ``ADDRESS_LIMIT``, within ``WINDOW``. A refused attempt is not checked against the
password at all (so the lock-out cannot be used to test passwords) and is not counted again.
A successful sign-in clears the account's failures.

The check and the count are one step (``take_attempt``): an attempt is recorded as a failure
before its password is checked, and a success clears it. Otherwise a burst of attempts sent
together would all pass the check before the first of them was counted, and try more passwords
than the limit allows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, Connection, delete, func, select

from notifier.staff.accounts import normalise_email
from notifier.staff.tables import staff_login_failures
from notifier.staff.words import Words

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCKED_MESSAGE = Words(
    "로그인 시도가 너무 많아 잠시 잠겼습니다. {minutes}분 뒤에 다시 시도하거나, "
    "비밀번호를 잊으셨다면 관리자에게 재설정 링크를 요청하세요.",
    "Too many sign-in attempts: try again in {minutes} minutes, or ask your manager for a reset link.",
)


def _failures(conn: Connection, column: Column[str], value: str, now: datetime) -> int:
    query = select(func.count()).where(column == value, staff_login_failures.c.at > now - WINDOW)
    return int(conn.execute(query).scalar_one())


def take_attempt(conn: Connection, email: str, address: str, now: datetime) -> bool:
    """Count an attempt for ``email`` from ``address``, unless either is locked; tell which.

    Counted as a failure until ``clear`` says it succeeded; a refused attempt is not counted.
    Attempts for one account or from one address take their turn: PostgreSQL holds advisory
    locks on both until the transaction ends; SQLite lets one writer in at a time, and the
    attempt is written before anything is counted.
    """
    email_key, address_key = normalise_email(email)[:320], address[:64]
    if conn.dialect.name == "postgresql":
        for key in sorted((f"staff-login-email:{email_key}", f"staff-login-address:{address_key}")):
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    attempt = conn.execute(
        staff_login_failures.insert()
        .values(email=email_key, address=address_key, at=now)
        .returning(staff_login_failures.c.id)
    ).scalar_one()
    # This attempt's own row is among those counted.
    if (
        _failures(conn, staff_login_failures.c.email, email_key, now) > ACCOUNT_LIMIT
        or _failures(conn, staff_login_failures.c.address, address_key, now) > ADDRESS_LIMIT
    ):
        conn.execute(delete(staff_login_failures).where(staff_login_failures.c.id == attempt))
        return False
    return True


def clear(conn: Connection, email: str) -> None:
    """Forget an account's failures (it signed in, or its password was reset)."""
    conn.execute(delete(staff_login_failures).where(staff_login_failures.c.email == normalise_email(email)))


def forget_older(conn: Connection, now: datetime) -> int:
    """Delete failures that no longer count."""
    return conn.execute(
        delete(staff_login_failures).where(staff_login_failures.c.at <= now - WINDOW)
    ).rowcount
