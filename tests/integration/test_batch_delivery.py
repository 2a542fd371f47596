"""The bulk lane in batches: one claim per batch, outcomes written together, each message once.

Real PostgreSQL, Redis and the Twilio fake; SQLite where the embedded default is the point.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import redis
from sqlalchemy import event, select, update

from notifier import bootstrap
from notifier.bootstrap import load_shipped_data, wire
from notifier.campaigns import service as campaigns
from notifier.campaigns import tables as campaign_tables
from notifier.campaigns.fanout import fan_out_batch
from notifier.campaigns.render import render_claimed
from notifier.channels.base import Accepted
from notifier.channels.outbox import outbox
from notifier.channels.twilio_sms import TwilioSender
from notifier.config import BULK_QUEUE, Settings, TwilioSettings
from notifier.consent import addresses
from notifier.consent.tables import opt_outs
from notifier.domain.message_status import Status
from notifier.domain.phones import parse_phone
from notifier.messages import repository as repo
from notifier.messages.callbacks import apply_twilio_status
from notifier.messages.claims import claim, claim_many
from notifier.messages.outcomes import REQUEUED, Outcomes
from notifier.messages.sending import CLAIM_BATCH, LAST_LOOK_SECONDS, deliver_many
from notifier.messages.tables import messages
from notifier.messages.throttle import Bucket, RedisThrottle, Throttled
from notifier.storage.db import upgrade
from tests.conftest import REDIS_URL, free_port
from tests.integration.test_campaigns_api import campaign, campaign_messages, create
from tests.integration.test_delivery import FrozenClock

DAYTIME = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 11:00 in Korea


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}


def phone(n: int) -> str:
    return f"010-7000-{n:04d}"


def e164(n: int) -> str:
    return parse_phone(phone(n)).e164


def started_campaign(client, admin, ctx, count: int) -> dict[str, str]:
    """A running informational campaign to ``count`` phones; its queued messages by phone."""
    people = [{"phone": phone(n), "name": f"사람{n}"} for n in range(count)]
    campaign_id = create(client, admin, campaign(recipients=people, data={"deadline": "12월 19일(금)"}))["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    rows = campaign_messages(ctx, campaign_id)
    assert {r["status"] for r in rows} == {"queued"}
    return {r["to_phone"]: r["id"] for r in rows}


def row(ctx, message_id):
    with ctx.engine.connect() as conn:
        return repo.get(conn, message_id)


def history(ctx, message_id):
    with ctx.engine.connect() as conn:
        return [(h["status"], h["detail"]) for h in repo.history(conn, message_id)]


def test_a_batch_sends_exactly_the_messages_it_may_and_settles_the_others(client, admin, ctx, twilio) -> None:
    clock = ctx.clock = FrozenClock(DAYTIME)
    ids = started_campaign(client, admin, ctx, 6)
    taken, opted_out, expired, exhausted, first, second = (ids[e164(n)] for n in range(6))
    other_worker = claim(ctx, taken)  # another worker won this one a moment ago
    assert other_worker is not None
    clock.advance(1)
    with ctx.engine.begin() as conn:  # an opt-out stored by another process since the fan-out
        conn.execute(
            opt_outs.insert().values(
                id=str(uuid.uuid4()),
                address_hash=addresses.address_hash(ctx, "sms", phone(1)),
                channel="sms",
                scope="all",
                source="api",
                created_at=clock(),
            )
        )
        conn.execute(
            update(messages).where(messages.c.id == expired).values(expires_at=clock() - timedelta(1))
        )
        conn.execute(
            update(messages).where(messages.c.id == exhausted).values(attempts=ctx.settings.max_attempts)
        )

    assert deliver_many(ctx, list(ids.values())) == 2

    assert sorted(m.to for m in twilio.messages) == [e164(4), e164(5)]
    sids = {m.to: m.sid for m in twilio.messages}
    for n, message_id in ((4, first), (5, second)):
        sent = row(ctx, message_id)
        assert (sent["status"], sent["provider_message_id"], sent["attempts"]) == ("sent", sids[e164(n)], 1)
        assert sent["body"] == next(m.body for m in twilio.messages if m.to == e164(n))  # stored as sent
        assert [s for s, _ in history(ctx, message_id)] == ["queued", "sending", "sent"]
    still = row(ctx, taken)
    assert (still["status"], still["claimed_at"]) == ("sending", other_worker.claimed_at)
    assert history(ctx, opted_out)[-1] == ("suppressed", "recipient opted out (all, via api)")
    assert history(ctx, expired)[-1] == ("expired", "validity window passed")
    failed = row(ctx, exhausted)
    assert (failed["status"], failed["error_code"]) == ("failed", "attempts_exhausted")


def test_a_batch_costs_the_same_statements_whatever_its_size(client, admin, ctx, twilio) -> None:
    ids = list(started_campaign(client, admin, ctx, 1 + 5 + CLAIM_BATCH).values())
    deliver_many(ctx, ids[:1])  # the campaign and its template are now cached by the worker

    def statements_to_send(batch: list[str]) -> tuple[int, int, float]:
        """The statements sending ``batch`` costs, apart from the opt-out look-ups; those; seconds."""
        seen: list[str] = []

        def note(conn, cursor, statement, parameters, context, executemany) -> None:
            seen.append(statement)

        event.listen(ctx.engine, "before_cursor_execute", note)
        started = time.monotonic()
        try:
            assert deliver_many(ctx, batch) == len(batch)
        finally:
            event.remove(ctx.engine, "before_cursor_execute", note)
        looks = sum(1 for statement in seen if "FROM opt_outs" in statement)
        return len(seen) - looks, looks, time.monotonic() - started

    small, _, _ = statements_to_send(ids[1:6])
    large, looks, took = statements_to_send(ids[6:])
    assert small == large
    # The opt-outs are read at the claim and again before the provider calls: once per slice
    # of LAST_LOOK_SECONDS, not once per message.
    assert looks <= 2 + math.ceil(took / LAST_LOOK_SECONDS)
    assert len(twilio.messages) == len(ids)


def test_outcomes_move_only_messages_still_held_by_their_claim(client, admin, ctx, twilio) -> None:
    clock = ctx.clock = FrozenClock(DAYTIME)
    ids = started_campaign(client, admin, ctx, 3)
    claimed = {r.to_phone: r for r in claim_many(ctx, list(ids.values()), render=render_claimed)}
    taken_over, overtaken, ours = (claimed[e164(n)] for n in range(3))
    clock.advance(400)  # recovery found the first stuck and queued it again; another worker took it
    with ctx.engine.begin() as conn:
        repo.transition(conn, taken_over.id, Status.QUEUED, clock(), only_from=[Status.SENDING])
    second_claim = claim(ctx, taken_over.id)
    assert second_claim is not None
    delivered = {"MessageStatus": "delivered", "MessageSid": "SM-from-the-callback"}
    assert apply_twilio_status(ctx, overtaken.id, delivered)  # the callback came first

    outcomes = Outcomes(ctx)
    for claimed_row in (taken_over, overtaken, ours):
        outcomes.accepted(claimed_row, Accepted("twilio", f"SM-{claimed_row.id[:8]}"))
    outcomes.record()

    still = row(ctx, taken_over.id)
    assert (still["status"], still["claimed_at"]) == ("sending", second_claim.claimed_at)
    assert "sent" not in [s for s, _ in history(ctx, taken_over.id)]
    kept = row(ctx, overtaken.id)
    assert (kept["status"], kept["provider_message_id"]) == ("delivered", "SM-from-the-callback")
    sent = row(ctx, ours.id)
    assert (sent["status"], sent["provider_message_id"]) == ("sent", f"SM-{ours.id[:8]}")


class Ticking:
    """A clock that moves on each time it is read."""

    def __init__(self, now: datetime, step: timedelta) -> None:
        self.now, self.step = now, step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def test_a_claim_grown_too_old_to_send_goes_back_to_the_queue_unsent(client, admin, ctx, twilio) -> None:
    ids = started_campaign(client, admin, ctx, 5)
    rung: list[tuple[str, list[str]]] = []
    ctx.publish = lambda lane, message_ids: rung.append((lane, message_ids))
    # Read once to claim, then once before each send: by the third message the claim is older
    # than a third of stuck_after (100 s), so recovery could take it over during a slow call.
    ctx.clock = Ticking(datetime.now(UTC), timedelta(seconds=40))
    ordered = [ids[e164(n)] for n in range(5)]

    assert deliver_many(ctx, ordered) == 2

    assert sorted(m.to for m in twilio.messages) == [e164(0), e164(1)]
    for message_id in ordered[2:]:
        back = row(ctx, message_id)
        assert (back["status"], back["attempts"]) == ("queued", 0)  # no attempt used up
        assert history(ctx, message_id)[-1] == ("queued", REQUEUED)
    assert rung == [(BULK_QUEUE, ordered[2:])]


def test_a_batch_the_rate_limiter_fails_goes_back_to_the_queue_unsent(client, admin, ctx, twilio) -> None:
    ids = started_campaign(client, admin, ctx, 3)
    rung: list[tuple[str, list[str]]] = []
    ctx.publish = lambda lane, message_ids: rung.append((lane, message_ids))
    down = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    ctx.throttle = RedisThrottle(down, "down:", lambda row: [Bucket("twilio:x", 10.0)])

    with pytest.raises(redis.ConnectionError):
        deliver_many(ctx, list(ids.values()))

    assert twilio.messages == []
    for message_id in ids.values():
        back = row(ctx, message_id)
        assert (back["status"], back["attempts"]) == ("queued", 0)  # claimed, never sent: no attempt
        assert history(ctx, message_id)[-1] == ("queued", REQUEUED)
    assert [(lane, sorted(batch)) for lane, batch in rung] == [(BULK_QUEUE, sorted(ids.values()))]


def test_an_email_is_recorded_as_sent_before_the_next_one_goes(client, admin, ctx, smtp) -> None:
    """An SMTP server cannot be asked after a crash what it took: at most one email is unrecorded."""
    people = [{"email": f"person{n}@example.com", "name": f"사람{n}"} for n in range(3)]
    body = campaign(channel="email", recipients=people, data={"deadline": "12월 19일(금)"})
    campaign_id = create(client, admin, body)["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    ids = [m["id"] for m in campaign_messages(ctx, campaign_id)]
    seen_before_each_wait: list[list[str]] = []

    def sleep(seconds: float) -> None:  # the throttle's own wait, with a look at the table first
        with ctx.engine.connect() as conn:
            query = select(messages.c.id).where(messages.c.id.in_(ids), messages.c.status == "sent")
            seen_before_each_wait.append(sorted(conn.execute(query).scalars()))
        time.sleep(seconds)

    prefix = f"{ctx.settings.broker_key_prefix}{uuid.uuid4().hex[:6]}:"
    # Slow enough that each email after the first waits for its slot.
    ctx.throttle = RedisThrottle(
        redis.Redis.from_url(REDIS_URL), prefix, lambda row: [Bucket("smtp:test", 2.0)], sleep=sleep
    )

    assert deliver_many(ctx, ids) == 3

    waits = [len(sent) for sent in seen_before_each_wait]  # the 2nd's waits, then the 3rd's
    assert set(waits) == {1, 2}
    assert waits == sorted(waits)
    assert len(smtp.messages) == 3


def test_a_batch_reserves_a_send_slot_for_each_message_in_one_call(settings) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"{settings.broker_key_prefix}{uuid.uuid4().hex[:6]}:"
    throttle = RedisThrottle(
        client, prefix, lambda row: [Bucket(f"twilio:{row['sender']}", 10.0)], max_wait=0.25
    )
    rows = [{"sender": "a"}] * 5 + [{"sender": "b"}]
    calls: list[object] = []
    client.set_response_callback("EVALSHA", lambda response, **options: calls.append(response) or response)

    slots = throttle.reserve(rows)

    assert len(calls) == 2  # one call per set of buckets
    moments = [s for s in slots[:3] if not isinstance(s, Throttled)]
    assert len(moments) == 3  # 0, 0.1 and 0.2 s away: within the 0.25 s a message may wait
    assert [round(b - a, 2) for a, b in pairwise(moments)] == [0.1, 0.1]
    assert all(isinstance(s, Throttled) and 0.25 < s.wait <= 0.3 for s in slots[3:5])
    assert not isinstance(slots[5], Throttled)  # another sender, another bucket
    assert all(isinstance(s, Throttled) for s in throttle.reserve(rows[:2]))  # the slots are taken
    client.close()


def test_a_stored_number_hashes_as_its_opt_out_whatever_spelling_was_opted_out(ctx) -> None:
    for spelled in ("010-1234-5678", "01012345678", "+82 10-1234-5678", "0082-10-1234-5678"):
        stored = parse_phone(spelled).e164  # what every message row holds
        assert addresses.stored_address_hash(ctx, "sms", stored) == addresses.address_hash(
            ctx, "sms", spelled
        )
    assert addresses.stored_address_hash(ctx, "email", "Hong@Example.com") == addresses.address_hash(
        ctx, "email", "hong@example.com"
    )


def test_every_worker_thread_talks_to_twilio_through_its_own_client(twilio) -> None:
    sender = TwilioSender(
        TwilioSettings(twilio.account_sid, twilio.auth_token, "+82416615676", twilio.base_url)
    )
    seen: dict[str, object] = {}

    def remember(name: str) -> None:
        seen[name] = sender.client
        assert sender.client is seen[name]  # the same one every time within a thread

    threads = [threading.Thread(target=remember, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in seen.values()}) == 4


def test_the_embedded_sqlite_default_claims_renders_and_records_batches(tmp_path) -> None:
    settings = Settings.from_env(
        {
            "NOTIFIER_DATA_DIR": str(tmp_path),
            "NOTIFIER_SECRET_KEY": "test-secret",
            "NOTIFIER_MAIL_FROM": "noreply@seosan.example.kr",
            "NOTIFIER_QUIET_HOURS": "00:00-00:00",  # whatever the hour the test runs at
        }
    )
    ctx = bootstrap.build(settings)
    assert ctx.engine.dialect.name == "sqlite"
    try:
        upgrade(ctx.engine)
        load_shipped_data(ctx)
        wire(ctx)
        people = [campaigns.CampaignRecipientIn(phone=phone(n), name=f"사람{n}") for n in range(4)]
        spec = campaigns.CampaignIn(
            name="안내",
            template="program_announcement_jobseekers",
            category="informational",
            center="seosan",
            channel="sms",
            data={"deadline": "12월 19일(금)"},
            recipients=people,
        )
        campaign_id = campaigns.create_campaign(ctx, "owner", spec)["id"]
        campaigns.start_campaign(ctx, "owner", campaign_id)
        with ctx.engine.begin() as conn:  # as if the fan-out's progress had been lost in a crash
            conn.execute(update(campaign_tables.campaigns).values(fanout_after=-1, fanned_out=False))
        assert fan_out_batch(ctx, campaign_id) == (0, True)  # nothing twice, and nobody left
        with ctx.engine.connect() as conn:
            ids = list(
                conn.execute(select(messages.c.id).where(messages.c.campaign_id == campaign_id)).scalars()
            )
            conn.execute(
                update(messages)
                .where(messages.c.id == ids[0])
                .values(expires_at=datetime.now(UTC) - timedelta(hours=1))
            )
            conn.commit()

        assert deliver_many(ctx, ids) == 3

        with ctx.engine.connect() as conn:
            rows = {r["id"]: r for r in conn.execute(select(messages)).mappings()}
            sent = conn.execute(select(outbox.c.message_id, outbox.c.body)).all()
        assert rows[ids[0]]["status"] == Status.EXPIRED.value
        assert {i for i, _ in sent} == set(ids[1:])
        assert {rows[i]["body"] for i in ids[1:]} == {body for _, body in sent}
        assert len({rows[i]["provider_message_id"] for i in ids[1:]}) == 3
        assert {rows[i]["status"] for i in ids[1:]} == {"sent"}
    finally:
        ctx.engine.dispose()
