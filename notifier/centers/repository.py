"""The SQL of the center registry: one row per center, written from centers.yaml or the CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.engine import RowMapping

from notifier.centers.tables import centers


def upsert(conn: Connection, code: str, **values: Any) -> None:
    """Insert the center ``code`` or update its row."""
    exists = conn.execute(select(centers.c.code).where(centers.c.code == code)).first()
    if exists:
        conn.execute(centers.update().where(centers.c.code == code).values(code=code, **values))
    else:
        conn.execute(centers.insert().values(code=code, **values))


def find(conn: Connection, code: str) -> RowMapping | None:
    return conn.execute(select(centers).where(centers.c.code == code)).mappings().first()


def every(conn: Connection) -> list[RowMapping]:
    """Every center, by code."""
    return list(conn.execute(select(centers).order_by(centers.c.code)).mappings())


def senders(conn: Connection) -> list[tuple[str | None, str | None]]:
    """The (SMS sender, email sender) of every center."""
    return [(sms, email) for sms, email in conn.execute(select(centers.c.sms_sender, centers.c.email_sender))]


def code_for_sms_sender(conn: Connection, number: str) -> str | None:
    """The code of a center whose SMS sender number is ``number``."""
    found = conn.execute(select(centers.c.code).where(centers.c.sms_sender == number)).first()
    return found.code if found else None
