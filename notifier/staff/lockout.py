"""Limits on failed sign-ins, per account and per address.

Threat: guessing passwords, slowly for one account or across many accounts from one address.
Each failure is a row; a sign-in is refused while an account has ``ACCOUNT_LIMIT`` failures, or
an address ``ADDRESS_LIMIT``, within ``WINDOW``. A refused attempt is not checked against the
password at all (so the lock-out cannot be used to test passwords) and is not counted again.
A successful sign-in clears the account's failures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, Connection, delete, func, select

from notifier.staff.accounts import normalise_email
from notifier.staff.tables import staff_login_failures

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCKED_MESSAGE = (
    "로그인 시도가 너무 많아 잠시 잠겼습니다. {minutes}분 뒤에 다시 시도하거나, "
    "비밀번호를 잊으셨다면 관리자에게 재설정 링크를 요청하세요."
)


def _failures(conn: Connection, column: Column[str], value: str, now: datetime) -> int:
    query = select(func.count()).where(column == value, staff_login_failures.c.at > now - WINDOW)
    return int(conn.execute(query).scalar_one())


def locked(conn: Connection, email: str, address: str, now: datetime) -> bool:
    """Whether sign-ins for ``email`` or from ``address`` are refused now."""
    if _failures(conn, staff_login_failures.c.email, normalise_email(email)[:320], now) >= ACCOUNT_LIMIT:
        return True
    return _failures(conn, staff_login_failures.c.address, address[:64], now) >= ADDRESS_LIMIT


def record_failure(conn: Connection, email: str, address: str, now: datetime) -> None:
    conn.execute(
        staff_login_failures.insert().values(email=normalise_email(email)[:320], address=address[:64], at=now)
    )


def clear(conn: Connection, email: str) -> None:
    """Forget an account's failures (it signed in, or its password was reset)."""
    conn.execute(delete(staff_login_failures).where(staff_login_failures.c.email == normalise_email(email)))


def forget_older(conn: Connection, now: datetime) -> int:
    """Delete failures that no longer count."""
    return conn.execute(
        delete(staff_login_failures).where(staff_login_failures.c.at <= now - WINDOW)
    ).rowcount
