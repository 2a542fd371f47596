"""A centre's appointments of one day (the staff console), with the messages each one got.

Two queries, each a range over an index: ``ix_appointments_center_starts`` for the day's
appointments, ``ix_messages_appointment`` for their messages.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.engine import RowMapping

from notifier.appointments.tables import appointments
from notifier.messages.tables import messages

SHOWN = 500


def day_range(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The day's start and end in ``zone``."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, start + timedelta(days=1)


def of_day(conn: Connection, centers: Collection[str], day: date, zone: ZoneInfo) -> list[RowMapping]:
    """The appointments of ``centers`` starting on ``day`` (local), by start time."""
    start, end = day_range(day, zone)
    query = (
        select(appointments)
        .where(
            appointments.c.center_code.in_(sorted(centers)),
            appointments.c.starts_at >= start,
            appointments.c.starts_at < end,
        )
        .order_by(appointments.c.starts_at, appointments.c.id)
        .limit(SHOWN)
    )
    return list(conn.execute(query).mappings())


def one(conn: Connection, appointment_id: str) -> RowMapping | None:
    return conn.execute(select(appointments).where(appointments.c.id == appointment_id)).mappings().first()


def sent_for(conn: Connection, appointment_ids: Collection[str]) -> dict[str, list[RowMapping]]:
    """The messages of each appointment, oldest first."""
    if not appointment_ids:
        return {}
    query = (
        select(
            messages.c.appointment_id,
            messages.c.purpose,
            messages.c.channel,
            messages.c.status,
            messages.c.send_at,
            messages.c.updated_at,
        )
        .where(messages.c.appointment_id.in_(sorted(appointment_ids)))
        .order_by(messages.c.created_at)
    )
    found: dict[str, list[RowMapping]] = {}
    for row in conn.execute(query).mappings():
        found.setdefault(row["appointment_id"], []).append(row)
    return found
