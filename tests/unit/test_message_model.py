"""The typed message matches the ``messages`` table it is read from."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select

from notifier.domain.message_status import Status
from notifier.messages.model import Message
from notifier.messages.tables import messages

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_a_message_has_exactly_the_columns_of_the_table_in_their_order() -> None:
    assert [f.name for f in fields(Message)] == [c.name for c in messages.columns]


def test_a_stored_row_reads_back_as_a_message_with_its_status_as_an_enum() -> None:
    engine = create_engine("sqlite://")
    messages.create(engine)
    row = {
        "id": "m1",
        "owner": "seosan",
        "template_key": "appointment_reminder",
        "template_version": 1,
        "channel": "sms",
        "locale": "ko",
        "lane": "transactional",
        "to_phone": "+821012345678",
        "sender": "+82416615676",
        "center": {"name": "서산고용복지+센터"},
        "data": {"name": "홍길동"},
        "body": "안내",
        "status": "queued",
        "send_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }
    with engine.begin() as conn:
        conn.execute(messages.insert().values(row))
        stored = conn.execute(select(messages)).mappings().one()
    message = Message.from_row(stored)
    assert message.status is Status.QUEUED
    assert (message.to_phone, message.center, message.attempts, message.claimed_at) == (
        "+821012345678",
        {"name": "서산고용복지+센터"},
        0,
        None,
    )
    with pytest.raises(FrozenInstanceError):
        message.attempts = 1  # type: ignore[misc]
    engine.dispose()
