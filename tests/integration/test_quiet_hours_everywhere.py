"""Quiet hours hold every automatic message: messages posted through the API and campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from notifier.campaigns.fanout import NIGHT_HOLD, QUIET_HOLD
from notifier.centers.tables import centers
from notifier.messages import repository as repo
from notifier.messages.accept import URGENT
from notifier.messages.scheduler import dispatch_due
from notifier.messages.sending import deliver, deliver_many
from tests.factories import message_body
from tests.integration.test_campaigns_api import (
    CONSENTED,
    OPT_OUT,
    campaign,
    campaign_messages,
    create,
    put_recipient,
)
from tests.integration.test_delivery import FrozenClock

NIGHT = datetime(2026, 12, 1, 17, 25, tzinfo=UTC)  # 02:25 in Korea
MORNING = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 08:00 in Korea, when quiet hours end


@pytest.fixture
def env(env):
    """The quiet hours the service ships with (the suite's default is none)."""
    return {**env, "NOTIFIER_QUIET_HOURS": "21:00-08:00"}


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}


def history(ctx, message_id):
    with ctx.engine.connect() as conn:
        return repo.history(conn, message_id)


def post(client, auth, **changes):
    response = client.post("/v1/messages", json=message_body(**changes), headers=auth)
    assert response.status_code == 202, response.json
    return response.json


def test_a_message_posted_at_night_waits_for_the_end_of_quiet_hours_and_the_answer_says_when(
    client, auth, ctx, twilio
) -> None:
    ctx.clock = FrozenClock(NIGHT)
    answer = post(client, auth)
    assert answer["status"] == "scheduled"
    assert datetime.fromisoformat(answer["send_at"]) == MORNING
    assert history(ctx, answer["id"])[0]["detail"] == (
        "held for quiet hours (21:00-08:00 Asia/Seoul) until 2026-12-02 08:00"
    )
    assert deliver(ctx, answer["id"]).status == "skipped"
    ctx.clock = FrozenClock(MORNING + timedelta(seconds=1))
    dispatch_due(ctx)
    assert deliver(ctx, answer["id"]).status == "sent"
    [request] = twilio.requests
    assert request.params["To"] == "+821012345678"


def test_a_send_at_of_the_evening_received_at_night_waits_for_the_morning_too(
    client, auth, ctx, twilio
) -> None:
    ctx.clock = FrozenClock(NIGHT)
    evening = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 20:00 in Korea, before quiet hours began
    answer = post(client, auth, send_at=evening.isoformat())
    assert answer["status"] == "scheduled"
    assert datetime.fromisoformat(answer["send_at"]) == MORNING
    assert history(ctx, answer["id"])[0]["detail"].startswith("held for quiet hours")
    assert deliver(ctx, answer["id"]).status == "skipped"
    assert twilio.requests == []  # nothing at 02:25


def test_an_urgent_message_goes_at_once_in_quiet_hours_and_its_history_says_so(
    client, auth, ctx, twilio
) -> None:
    ctx.clock = FrozenClock(NIGHT)
    answer = post(client, auth, urgent=True)
    assert answer["status"] == "queued"
    assert datetime.fromisoformat(answer["send_at"]) == NIGHT
    assert history(ctx, answer["id"])[0]["detail"] == URGENT
    assert deliver(ctx, answer["id"]).status == "sent"
    assert len(twilio.requests) == 1


def test_a_registered_centres_own_quiet_hours_decide(client, auth, ctx) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(update(centers).where(centers.c.code == "seosan").values(quiet_hours="23:00-06:00"))
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 13, 30, tzinfo=UTC))  # 22:30: before its quiet hours
    assert post(client, auth, center={"code": "seosan"})["status"] == "queued"
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 20, 30, tzinfo=UTC))  # 05:30: in them
    held = post(client, auth, center={"code": "seosan"})
    assert datetime.fromisoformat(held["send_at"]) == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # 06:00


def test_an_informational_campaign_started_at_night_is_held_until_quiet_hours_end(
    client, admin, ctx, twilio
) -> None:
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 17, 37, tzinfo=UTC))  # 02:37 in Korea
    campaign_id = create(client, admin, campaign())["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    [held] = campaign_messages(ctx, campaign_id)
    assert (held["status"], held["send_at"]) == ("scheduled", MORNING)
    assert history(ctx, held["id"])[0]["detail"] == QUIET_HOLD
    assert deliver_many(ctx, [held["id"]]) == 0
    assert twilio.requests == []


def test_a_campaign_message_claimed_in_quiet_hours_goes_back_to_wait_for_their_end(
    client, admin, ctx, twilio
) -> None:
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 11, 0, tzinfo=UTC))  # 20:00 in Korea
    campaign_id = create(client, admin, campaign())["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    [queued] = campaign_messages(ctx, campaign_id)
    assert queued["status"] == "queued"
    ctx.clock = FrozenClock(NIGHT)  # the worker gets to it only after 21:00
    assert deliver_many(ctx, [queued["id"]]) == 0
    [held] = campaign_messages(ctx, campaign_id)
    assert (held["status"], held["send_at"]) == ("scheduled", MORNING)
    assert history(ctx, held["id"])[-1]["detail"] == QUIET_HOLD
    assert twilio.requests == []


def test_an_advertising_campaign_keeps_the_legal_night_beyond_a_centres_shorter_quiet_hours(
    client, admin, ctx
) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(update(centers).where(centers.c.code == "seosan").values(quiet_hours="23:00-06:00"))
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 20, 30, tzinfo=UTC))  # 05:30 in Korea
    put_recipient(client, admin, "r1", phone="010-2345-0001", consents=CONSENTED)
    informational = create(client, admin, campaign(recipients=[{"phone": "010-2345-0001"}]))["id"]
    body = campaign(category="advertising", opt_out_number=OPT_OUT, recipients=[{"phone": "010-2345-0001"}])
    advertising = create(client, admin, body)["id"]
    for campaign_id in (informational, advertising):
        assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    [announcement] = campaign_messages(ctx, informational)
    [advert] = campaign_messages(ctx, advertising)
    assert announcement["send_at"] == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # 06:00: its centre's end
    assert advert["send_at"] == MORNING  # 08:00: the legal night's end
    assert history(ctx, advert["id"])[0]["detail"] == NIGHT_HOLD
