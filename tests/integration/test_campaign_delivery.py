"""Campaign messages in the worker: rendered just before sending, held at night, created once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from notifier.campaigns.fanout import fan_out_batch
from notifier.campaigns.tables import campaigns
from notifier.messages import scheduler
from notifier.messages.claims import claim_many
from notifier.messages.sending import deliver, deliver_many
from notifier.messages.tables import messages
from tests.integration.test_campaigns_api import (
    CONSENTED,
    OPT_OUT,
    campaign,
    campaign_messages,
    create,
    put_recipient,
    send_all,
)
from tests.integration.test_delivery import FrozenClock


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}


def test_started_campaign_renders_in_the_worker_and_finishes(client, admin, ctx, twilio) -> None:
    people = [{"phone": f"010-4567-{i:04d}", "name": f"사람{i}"} for i in range(5)]
    body = campaign(recipients=people, data={"deadline": "12월 19일(금)"})
    campaign_id = create(client, admin, body)["id"]
    started = client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    assert started.status_code == 200, started.json
    assert started.json["status"] == "running"
    rows = campaign_messages(ctx, campaign_id)
    assert {(r["lane"], r["purpose"], r["category"], r["body"]) for r in rows} == {
        ("bulk", "announcement", "informational", None)
    }
    assert send_all(ctx, campaign_id) == 5
    bodies = {m.to: m.body for m in twilio.messages}
    assert len(bodies) == 5
    assert "사람3님" in bodies["+821045670003"]
    assert "12월 19일(금)" in bodies["+821045670003"]
    assert not any(b.startswith("(광고)") for b in bodies.values())
    stored = campaign_messages(ctx, campaign_id)
    assert {r["body"] for r in stored} == set(bodies.values())  # what went out was stored first
    scheduler.tick(ctx)
    done = client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json
    assert done["status"] == "finished"
    assert done["counts"] == {"sent": 5}
    assert done["progress"] == {"total": 5, "done": 5}
    assert done["finished_at"] is not None


def test_the_batch_that_sends_the_last_message_finishes_its_campaign(client, admin, ctx, twilio) -> None:
    people = [{"phone": f"010-4567-{i:04d}", "name": f"사람{i}"} for i in range(3)]
    campaign_id = create(client, admin, campaign(recipients=people, data={"deadline": "12월 19일(금)"}))["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    first, *rest = [m["id"] for m in campaign_messages(ctx, campaign_id)]
    assert deliver_many(ctx, rest) == 2
    assert client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json["status"] == "running"
    assert deliver_many(ctx, [first]) == 1  # no scheduler tick in between
    done = client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json
    assert (done["status"], done["counts"]) == ("finished", {"sent": 3})
    assert done["finished_at"] is not None


def test_one_message_delivered_alone_goes_through_the_same_loop_as_a_batch(
    client, admin, ctx, twilio
) -> None:
    people = [{"phone": f"010-4567-{i:04d}", "name": f"사람{i}"} for i in range(2)]
    campaign_id = create(client, admin, campaign(recipients=people, data={"deadline": "12월 19일(금)"}))["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    first, second = [m["id"] for m in campaign_messages(ctx, campaign_id)]
    assert deliver_many(ctx, [first]) == 1
    assert deliver(ctx, second).status == "sent"  # rendered at its claim, like the batch's
    assert "12월 19일(금)" in twilio.messages[-1].body
    done = client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json
    assert (done["status"], done["counts"]) == ("finished", {"sent": 2})  # told the campaign, too
    assert deliver(ctx, second).status == "skipped"


def test_advertising_sms_carries_the_markings_and_the_free_opt_out_line(client, admin, ctx, twilio) -> None:
    put_recipient(client, admin, "r1", phone="010-2345-0001", consents=CONSENTED)
    body = campaign(category="advertising", opt_out_number=OPT_OUT, recipients=[{"phone": "010-2345-0001"}])
    campaign_id = create(client, admin, body)["id"]
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 11:00 in Korea
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    send_all(ctx, campaign_id)
    [sent] = twilio.messages
    assert sent.body.startswith("(광고)서산고용복지+센터\n")
    last_line = sent.body.splitlines()[-1]
    assert last_line.startswith("무료수신거부 080-123-4567 http://127.0.0.1:")
    assert "/u/" in last_line


def test_fan_out_twice_creates_nothing_twice(client, admin, ctx) -> None:
    people = [{"phone": f"010-6789-{i:04d}"} for i in range(30)]
    campaign_id = create(client, admin, campaign(recipients=people))["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    while not fan_out_batch(ctx, campaign_id)[1]:
        pass
    with ctx.engine.begin() as conn:  # as if the progress had been lost in a crash
        conn.execute(update(campaigns).values(fanout_after=-1, fanned_out=False))
    while not fan_out_batch(ctx, campaign_id)[1]:
        pass
    rows = campaign_messages(ctx, campaign_id)
    assert len(rows) == 30
    assert len({r["to_phone"] for r in rows}) == 30


def test_a_campaign_message_that_cannot_be_rendered_fails_alone(client, admin, ctx, twilio) -> None:
    people = [{"phone": "010-2345-0001"}, {"phone": "010-2345-0002"}]
    campaign_id = create(client, admin, campaign(recipients=people))["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    [broken, fine] = sorted(campaign_messages(ctx, campaign_id), key=lambda m: m["to_phone"])
    with ctx.engine.begin() as conn:  # a value the template cannot use
        conn.execute(update(messages).where(messages.c.id == broken["id"]).values(data={"recipient": "x"}))
    assert deliver_many(ctx, [broken["id"], fine["id"]]) == 1
    failed = {m["id"]: m for m in campaign_messages(ctx, campaign_id)}[broken["id"]]
    assert (failed["status"], failed["error_code"]) == ("failed", "render_error")
    assert [m.to for m in twilio.messages] == ["+821023450002"]


def test_a_message_the_database_cannot_store_fails_for_good_and_the_campaign_finishes(
    client, admin, ctx, twilio
) -> None:
    people = [{"phone": "010-2345-0001"}, {"phone": "010-2345-0002"}]
    campaign_id = create(client, admin, campaign(recipients=people, data={"deadline": "12월 19일"}))["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    [broken, fine] = sorted(campaign_messages(ctx, campaign_id), key=lambda m: m["to_phone"])
    with ctx.engine.begin() as conn:  # stored before the door refused NUL: its body cannot be stored
        conn.execute(
            update(messages).where(messages.c.id == broken["id"]).values(data={"deadline": "12월\x0019일"})
        )
    assert deliver_many(ctx, [broken["id"], fine["id"]]) == 1
    failed = {m["id"]: m for m in campaign_messages(ctx, campaign_id)}[broken["id"]]
    assert (failed["status"], failed["error_code"]) == ("failed", "unstorable")
    assert "NUL" in failed["error_reason"]
    assert deliver_many(ctx, [broken["id"]]) == 0  # nothing left to try: no loop
    done = client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json
    assert (done["status"], done["counts"]) == ("finished", {"failed": 1, "sent": 1})
    assert [m.to for m in twilio.messages] == ["+821023450002"]


def test_content_the_database_refuses_in_the_claim_fails_that_message_alone(client, admin, ctx) -> None:
    people = [{"phone": "010-2345-0001"}, {"phone": "010-2345-0002"}]
    campaign_id = create(client, admin, campaign(recipients=people))["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    [broken, fine] = sorted(campaign_messages(ctx, campaign_id), key=lambda m: m["to_phone"])

    def render(ctx, conn, rows):  # a renderer whose output one column cannot hold
        return {r["id"]: {"body": "x", "segments": "many" if r["id"] == broken["id"] else 1} for r in rows}

    claimed = claim_many(ctx, [broken["id"], fine["id"]], render=render)
    assert [m.id for m in claimed] == [fine["id"]]
    failed = {m["id"]: m for m in campaign_messages(ctx, campaign_id)}[broken["id"]]
    assert (failed["status"], failed["error_code"]) == ("failed", "unstorable")


NIGHT_CONSENTED = {**CONSENTED, "night_advertising": {"given_at": "2026-01-05T10:00:00+09:00"}}
EMAIL_CONSENTED = {"email_advertising": {"given_at": "2026-01-05T10:00:00+09:00"}}


def test_advertising_sms_at_night_is_held_until_8_not_dropped(client, admin, ctx) -> None:
    clock = FrozenClock(datetime(2026, 12, 1, 13, 30, tzinfo=UTC))  # 22:30 in Korea
    ctx.clock = clock
    put_recipient(client, admin, "day", phone="010-2345-0001", consents=CONSENTED)
    put_recipient(client, admin, "night", phone="010-2345-0002", consents=NIGHT_CONSENTED)
    put_recipient(client, admin, "mail", email="mail@example.com", consents=EMAIL_CONSENTED)
    people = [{"phone": "010-2345-0001"}, {"phone": "010-2345-0002"}, {"email": "mail@example.com"}]
    body = campaign(category="advertising", channel="auto", opt_out_number=OPT_OUT, recipients=people)
    campaign_id = create(client, admin, body)["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    rows = {m["to_phone"] or m["to_email"]: m for m in campaign_messages(ctx, campaign_id)}
    held = rows["+821023450001"]
    assert held["status"] == "scheduled"
    assert held["send_at"] == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 08:00 in Korea
    assert rows["+821023450002"]["status"] == "queued"  # night-time consent
    assert rows["mail@example.com"]["status"] == "queued"  # email is exempt
    clock.advance(9 * 3600 + 29 * 60)  # 07:59
    scheduler.tick(ctx)
    assert {m["to_phone"]: m["status"] for m in campaign_messages(ctx, campaign_id)}[
        "+821023450001"
    ] == "scheduled"
    clock.advance(60)
    scheduler.tick(ctx)
    statuses = {m["to_phone"]: m["status"] for m in campaign_messages(ctx, campaign_id)}
    assert statuses["+821023450001"] == "queued"


def test_an_advertising_sms_claimed_after_21_goes_back_to_8(client, admin, ctx, twilio) -> None:
    clock = FrozenClock(datetime(2026, 12, 1, 11, 55, tzinfo=UTC))  # 20:55 in Korea
    ctx.clock = clock
    put_recipient(client, admin, "day", phone="010-2345-0001", consents=CONSENTED)
    body = campaign(category="advertising", opt_out_number=OPT_OUT, recipients=[{"phone": "010-2345-0001"}])
    campaign_id = create(client, admin, body)["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    [queued] = campaign_messages(ctx, campaign_id)
    assert queued["status"] == "queued"
    clock.advance(10 * 60)  # the worker gets to it at 21:05
    assert deliver_many(ctx, [queued["id"]]) == 0
    assert twilio.requests == []
    [held] = campaign_messages(ctx, campaign_id)
    assert held["status"] == "scheduled"
    assert held["send_at"] == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def test_the_advertising_night_does_not_hold_an_informational_campaign(client, admin, ctx) -> None:
    # The suite's centres keep no quiet hours; test_quiet_hours_everywhere holds it by those.
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 13, 30, tzinfo=UTC))  # 22:30 in Korea
    campaign_id = create(client, admin, campaign())["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    assert [m["status"] for m in campaign_messages(ctx, campaign_id)] == ["queued"]


def test_an_advertising_email_needs_no_080_number_and_carries_its_unsubscribe_link(
    client, admin, ctx, smtp
) -> None:
    ctx.clock = FrozenClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 11:00 in Seoul
    consents = {"email_advertising": {"given_at": "2026-01-05T10:00:00+09:00"}}
    put_recipient(client, admin, "e1", email="kim@example.com", consents=consents)
    body = campaign(category="advertising", channel="email", recipients=[{"email": "kim@example.com"}])
    created = create(client, admin, {**body, "data": {"deadline": "12월 19일(금)"}})
    assert created["report"]["rejected"]["count"] == 0, created["report"]["rejected"]
    assert created["report"]["usable"] == 1
    assert client.post(f"/v1/campaigns/{created['id']}/start", headers=admin).status_code == 200
    assert send_all(ctx, created["id"]) == 1
    [mail] = smtp.wait_for_messages(1)
    assert mail.message["List-Unsubscribe"].startswith(f"<{ctx.settings.public_url}/u/")
    assert "무료수신거부" not in mail.message.get_body(("plain",)).get_content()
