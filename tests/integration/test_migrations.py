"""Schema upgrades keep the data: an existing database on PostgreSQL or SQLite upgrades to head."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from notifier.messages.tables import messages
from notifier.storage.db import make_engine, upgrade
from notifier.storage.types import UTCDateTime

PG_URL = os.environ.get("NOTIFIER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FILLER: dict[type, Any] = {str: "x", int: 0, bool: False}


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_engine(request, tmp_path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'upgrade.sqlite'}")
        yield engine
        engine.dispose()
        return
    name = f"notifier_upgrade_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    engine = make_engine(f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def filler(column: sa.Column[Any]) -> Any:
    if isinstance(column.type, UTCDateTime):
        return NOW
    if isinstance(column.type, sa.JSON):
        return {}
    return FILLER[column.type.python_type]


def required_values() -> dict[str, Any]:
    """A value for every NOT NULL column of ``messages`` (their names did not change in 0006)."""
    return {column.name: filler(column) for column in messages.columns if not column.nullable}


def test_the_appointment_revision_of_every_message_survives_the_rename(empty_engine) -> None:
    upgrade(empty_engine, "0005")
    with empty_engine.begin() as conn:
        old = sa.MetaData()
        old_messages = sa.Table("messages", old, autoload_with=conn)
        old_events = sa.Table("message_events", old, autoload_with=conn)
        values = {**required_values(), "id": "m-1", "appointment_id": "a-1", "appointment_version": 3}
        conn.execute(old_messages.insert().values(**values))
        conn.execute(old_events.insert().values(message_id="m-1", status="queued", at=NOW))

    upgrade(empty_engine)

    with empty_engine.connect() as conn:
        stored = conn.execute(sa.select(messages.c.appointment_revision).where(messages.c.id == "m-1"))
        assert stored.scalar_one() == 3
        columns = {c["name"] for c in sa.inspect(conn).get_columns("messages")}
        assert "appointment_version" not in columns
        history = conn.execute(sa.text("SELECT count(*) FROM message_events WHERE message_id = 'm-1'"))
        assert history.scalar_one() == 1  # the table was renamed in place, not copied and dropped


def test_appointments_booked_before_attendance_get_their_report_columns(empty_engine) -> None:
    upgrade(empty_engine, "0008")
    with empty_engine.begin() as conn:
        old = sa.Table("appointments", sa.MetaData(), autoload_with=conn)
        # Reflected, the times are plain DateTime columns: give them aware times as UTCDateTime would.
        values = {
            c.name: NOW if isinstance(c.type, sa.DateTime) else filler(c)
            for c in old.columns
            if not c.nullable
        }
        values.update(
            id="a-1",
            starts_at=datetime(2026, 12, 10, 5, 0, tzinfo=UTC),
            created_at=NOW,
            channels=["sms", "email"],
            reminder_plan=[{"offset_seconds": 7200}, {"offset_seconds": 86400}],
        )
        conn.execute(old.insert().values(**values))

    upgrade(empty_engine)

    from notifier.appointments.tables import appointments

    with empty_engine.connect() as conn:
        row = conn.execute(sa.select(appointments).where(appointments.c.id == "a-1")).mappings().one()
    assert (row["channels_key"], row["lead_days"], row["reminder_plan_name"]) == ("email+sms", 8, "24h,2h")
    assert row["outcome"] is None and row["experiment_id"] is None


def test_the_migrations_build_exactly_the_tables_the_code_defines(engine) -> None:
    """Upgraded to head, PostgreSQL has every table, column and index of ``notifier.tables``."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from notifier.tables import metadata

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
