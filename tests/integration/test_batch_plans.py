"""Batches find their messages by id, whatever PostgreSQL's statistics say about statuses.

During a campaign thousands of messages a second go ``queued -> sending -> sent``, faster than
autovacuum analyses the table. With statistics from before such a burst the planner expected
a handful of rows in a status and read them through ``ix_messages_status_send_at``: every
entry the index held for the status, dead ones included, so recording each batch of outcomes
read more than the one before. These tests make such statistics and read the plans the batch
statements get (EXPLAIN of the statement the driver is about to run, with its values): on a
table this small the planner may well read it whole, which a campaign's table is not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from notifier.domain.message_status import Status
from notifier.messages.batches import insert_new, transition_each
from notifier.messages.claims import claim_many

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
BATCH = 500


def _rows(count: int) -> list[dict[str, Any]]:
    """Queued campaign messages, not yet rendered, as the fan-out stores them."""
    campaign = str(uuid.uuid4())
    return [
        {
            "id": str(uuid.uuid4()),
            "owner": "test",
            "template_key": "program_announcement_jobseekers",
            "template_version": 1,
            "channel": "sms",
            "locale": "ko",
            "purpose": "message",
            "category": "informational",
            "lane": "bulk",
            "to_phone": f"+82105{n:07d}",
            "to_name": f"참여자{n}",
            "sender": "+82416615676",
            "center": {"code": "seosan", "name": "서산고용복지+센터", "phone": "041-661-5676"},
            "center_code": "seosan",
            "data": {"name": f"참여자{n}"},
            "status": Status.QUEUED.value,
            "send_at": NOW,
            "enqueued_at": NOW,
            "attempts": 0,
            "sandboxed": False,
            "campaign_id": campaign,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(count)
    ]


def _analyse(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE messages"))


@contextmanager
def _plans(engine) -> Iterator[list[str]]:
    """The plan of every statement on ``messages`` run meanwhile, as EXPLAIN prints it."""
    plans: list[str] = []

    def explain(conn, cursor, statement, parameters, context, executemany) -> None:
        if "messages" in statement and not statement.lstrip().upper().startswith(("EXPLAIN", "ANALYZE")):
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    event.listen(engine, "before_cursor_execute", explain)
    try:
        yield plans
    finally:
        event.remove(engine, "before_cursor_execute", explain)


def _claim_all(engine, ids: list[str], claimed_at: datetime) -> None:
    for start in range(0, len(ids), BATCH):
        with engine.begin() as conn:
            changes = {i: {"claimed_at": claimed_at, "attempts": 1} for i in ids[start : start + BATCH]}
            transition_each(conn, Status.SENDING, claimed_at, changes)


def test_outcomes_after_a_burst_of_claims_find_their_messages_by_id(ctx) -> None:
    rows = _rows(3 * BATCH)
    with ctx.engine.begin() as conn:
        insert_new(conn, rows, NOW, {})
    _analyse(ctx.engine)  # statistics of the moment: every message queued, none sending
    ids = [row["id"] for row in rows]
    claimed_at = NOW + timedelta(seconds=1)
    _claim_all(ctx.engine, ids, claimed_at)
    last = ids[-BATCH:]
    with _plans(ctx.engine) as plans, ctx.engine.begin() as conn:
        changes = {i: {"provider_message_id": f"M4V{n:020d}"} for n, i in enumerate(last)}
        moved = transition_each(conn, Status.SENT, NOW, changes, only_claimed_at=claimed_at)
    assert sorted(moved) == sorted(last)
    (plan,) = plans
    assert "ix_messages_status_send_at" not in plan, plan


def test_a_claim_after_a_quiet_spell_finds_its_messages_by_id(ctx) -> None:
    earlier = _rows(3 * BATCH)
    with ctx.engine.begin() as conn:
        insert_new(conn, earlier, NOW, {})
    _claim_all(ctx.engine, [row["id"] for row in earlier], NOW)
    _analyse(ctx.engine)  # statistics of a quiet moment: nothing queued
    rows = _rows(BATCH)
    with ctx.engine.begin() as conn:
        insert_new(conn, rows, NOW, {})
    ids = [row["id"] for row in rows]
    with _plans(ctx.engine) as plans:
        claimed = claim_many(ctx, ids)
    assert [message.id for message in claimed] == ids
    assert len(plans) >= 2  # the claim's SELECT and its UPDATE, at least
    assert [plan for plan in plans if "ix_messages_status_send_at" in plan] == []
