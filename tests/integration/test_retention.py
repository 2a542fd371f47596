"""Retention: after NOTIFIER_RETENTION_DAYS a finished message keeps its status, not its content."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from notifier.campaigns import fanout
from notifier.campaigns.tables import campaign_recipients
from notifier.messages import repository as repo
from notifier.messages import retention
from notifier.messages.sending import deliver
from notifier.messages.tables import messages
from tests.factories import KOREAN_MORNING, message_body
from tests.integration.test_campaigns_api import campaign, create, send_all
from tests.integration.test_delivery import FrozenClock


def stored(ctx, message_id):
    with ctx.engine.connect() as conn:
        return conn.execute(select(messages).where(messages.c.id == message_id)).mappings().one()


def history(ctx, message_id):
    with ctx.engine.connect() as conn:
        return [h["status"] for h in repo.history(conn, message_id)]


def post(client, auth, **changes):
    response = client.post("/v1/messages", json=message_body(**changes), headers=auth)
    assert response.status_code == 202, response.json
    return response.json["id"]


def test_finished_messages_lose_body_and_address_after_the_retention_and_keep_their_status(
    client, auth, ctx, twilio, caplog
) -> None:
    ctx.clock = FrozenClock(KOREAN_MORNING)
    old = post(client, auth)
    assert deliver(ctx, old).status == "sent"
    waiting = post(client, auth, send_at="2027-01-15T10:00:00+09:00")  # not finished: kept
    ctx.clock = FrozenClock(KOREAN_MORNING + timedelta(days=ctx.settings.retention_days, minutes=1))
    recent = post(client, auth)
    assert deliver(ctx, recent).status == "sent"
    before = history(ctx, old)

    with caplog.at_level(logging.INFO, logger="notifier.retention"):
        assert retention.scrub_old_messages(ctx) == {"messages_scrubbed": 1}

    scrubbed = stored(ctx, old)
    assert (scrubbed["to_phone"], scrubbed["to_name"], scrubbed["body"]) == (None, "", "[erased]")
    assert scrubbed["data"] == {}
    assert scrubbed["status"] == "sent"
    assert scrubbed["segments"] is not None  # counts and costs still add up
    assert history(ctx, old) == before
    assert stored(ctx, recent)["to_phone"] == "+821012345678"
    assert stored(ctx, waiting)["to_phone"] == "+821012345678"
    assert any(r.message == "retention: scrubbed old messages" for r in caplog.records)
    assert retention.scrub_old_messages(ctx) == {}  # the next pass waits a while


def test_the_scheduler_tick_runs_retention(ctx) -> None:
    assert retention.scrub_old_messages in ctx.tick_hooks


def test_the_retention_is_read_from_the_environment(settings) -> None:
    from notifier.config import Settings

    assert settings.retention_days == 30
    assert Settings.from_env({"NOTIFIER_SECRET_KEY": "x", "NOTIFIER_RETENTION_DAYS": "7"}).retention_days == 7


def test_an_ended_campaigns_list_loses_its_people_after_the_retention_and_keeps_its_counts(
    client, make_key, ctx, twilio
) -> None:
    admin = {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}
    ctx.clock = FrozenClock(KOREAN_MORNING)
    people = [{"phone": f"010-4567-{i:04d}", "name": f"사람{i}"} for i in range(3)]
    campaign_id = create(client, admin, campaign(recipients=people))["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    assert send_all(ctx, campaign_id) == 3
    before = client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json
    assert before["status"] == "finished"
    assert fanout.scrub_ended_lists(ctx) == {}  # ended just now: kept
    ctx.memo.clear()
    ctx.clock = FrozenClock(KOREAN_MORNING + timedelta(days=ctx.settings.retention_days, minutes=1))

    assert fanout.scrub_ended_lists(ctx) == {"campaign_rows_scrubbed": 3}

    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(campaign_recipients).where(campaign_recipients.c.campaign_id == campaign_id)
        )
        assert {(r.phone, r.email, r.name) for r in rows} == {(None, None, "")}
    after = client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json
    assert (after["counts"], after["progress"]) == (before["counts"], before["progress"])
