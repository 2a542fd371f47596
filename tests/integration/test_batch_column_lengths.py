"""Batched writes keep every character: a value as long as its column round-trips intact, and one
character more is refused loudly, never cut short (PostgreSQL truncates on a cast to
``VARCHAR(n)`` without a word; the batches cast to ``VARCHAR`` and let the column decide)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from notifier.domain.message_status import Status
from notifier.messages.batches import insert_new, transition_each
from notifier.messages.tables import messages

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
CLAIMED = NOW - timedelta(seconds=5)


def _full(column: str, fill: str = "가") -> str:
    """A value exactly as long as ``column`` allows (Hangul: each character is 3 bytes in UTF-8)."""
    length = messages.c[column].type.length
    assert length is not None
    return fill * length


def _row(**values: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "owner": _full("owner", "o"),
        "template_key": _full("template_key", "t"),
        "template_version": 1,
        "channel": "email",
        "locale": "ko",
        "purpose": "message",
        "category": "informational",
        "lane": "bulk",
        "to_email": "x" * 310 + "@e.example",
        "to_name": _full("to_name"),
        "sender": "s" * 310 + "@e.example",
        "center": {"name": "서산고용센터"},
        "data": {},
        "status": Status.SENDING.value,
        "reference": _full("reference"),
        "send_at": NOW,
        "claimed_at": CLAIMED,
        "attempts": 1,
        "sandboxed": False,
        "created_at": NOW,
        "updated_at": NOW,
        **values,
    }


def _stored(ctx, ids: list[str]) -> dict[str, dict[str, Any]]:
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(messages).where(messages.c.id.in_(ids))).mappings()
        return {row["id"]: dict(row) for row in rows}


def test_a_campaign_batch_stores_values_as_long_as_their_columns_intact(ctx) -> None:
    rows = [_row(), _row(to_name=_full("to_name", "나"))]  # varying values travel as arrays
    assert ctx.engine.dialect.name == "postgresql"
    with ctx.engine.begin() as conn:
        created = insert_new(conn, rows, NOW, {})
    assert len(created) == 2
    stored = _stored(ctx, [r["id"] for r in rows])
    for row in rows:
        for column in ("owner", "template_key", "to_email", "to_name", "sender", "reference"):
            assert stored[row["id"]][column] == row[column], column
    assert len(stored[rows[0]["id"]]["to_email"]) == messages.c.to_email.type.length


def test_a_batch_of_outcomes_stores_provider_values_as_long_as_their_columns_intact(ctx) -> None:
    rows = [_row(), _row()]
    with ctx.engine.begin() as conn:
        insert_new(conn, rows, NOW, {})
    changes = {
        rows[0]["id"]: {
            "provider_message_id": _full("provider_message_id", "a"),
            "error_code": _full("error_code", "c"),
        },
        rows[1]["id"]: {
            "provider_message_id": _full("provider_message_id", "b"),
            "error_code": _full("error_code", "c"),
        },
    }
    with ctx.engine.begin() as conn:
        moved = transition_each(
            conn, Status.SENT, NOW, changes, only_from=[Status.SENDING], only_claimed_at=CLAIMED
        )
    assert sorted(moved) == sorted(changes)
    stored = _stored(ctx, list(changes))
    for message_id, values in changes.items():
        assert stored[message_id]["status"] == Status.SENT.value
        assert {k: stored[message_id][k] for k in values} == values


@pytest.mark.parametrize("column", ["provider_message_id", "error_code"])
def test_a_value_longer_than_its_column_is_refused_not_cut_short(ctx, column) -> None:
    rows = [_row(), _row()]
    with ctx.engine.begin() as conn:
        insert_new(conn, rows, NOW, {})
    too_long = _full(column, "z") + "z"
    changes = {rows[0]["id"]: {column: too_long}, rows[1]["id"]: {column: "short"}}
    with pytest.raises(DataError), ctx.engine.begin() as conn:
        transition_each(conn, Status.SENT, NOW, changes, only_from=[Status.SENDING], only_claimed_at=CLAIMED)
    stored = _stored(ctx, list(changes))
    assert [stored[r["id"]]["status"] for r in rows] == [Status.SENDING.value] * 2
    assert [stored[r["id"]][column] for r in rows] == [None, None]


def test_a_campaign_row_longer_than_its_column_is_refused_not_cut_short(ctx) -> None:
    rows = [_row(to_name=_full("to_name") + "다"), _row()]
    with pytest.raises(DataError), ctx.engine.begin() as conn:
        insert_new(conn, rows, NOW, {})
    assert _stored(ctx, [r["id"] for r in rows]) == {}
