"""The shared rate limit: a Redis reservation bucket no number of workers can exceed."""

from __future__ import annotations

import multiprocessing
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import redis
from sqlalchemy import select

from notifier.campaigns.service import sender_buckets
from notifier.channels.base import SmsRequest
from notifier.channels.twilio_sms import TwilioSender
from notifier.config import Settings, TwilioSettings
from notifier.errors import ConfigError
from notifier.messages.sending import deliver, deliver_many
from notifier.messages.tables import messages
from notifier.messages.throttle import BULK_AHEAD_SECONDS, Bucket, RedisThrottle, Throttled
from tests.conftest import REDIS_URL, wait_for
from tests.factories import KOREAN_MORNING, RunningClock, message_body
from tests.integration.test_opt_outs import pending_message

RATE = 10.0
PER_PROCESS = 12
SENDER = "+82416615676"


def bucket_for(name):
    return lambda row: [Bucket(name, RATE)]


def send_through_throttle(prefix, bucket, base_url, sid, token, count):
    """Run in another process: wait for a slot, then send, ``count`` times."""
    client = redis.Redis.from_url(REDIS_URL)
    throttle = RedisThrottle(client, prefix, bucket_for(bucket))
    sender = TwilioSender(TwilioSettings(sid, token, SENDER, base_url))
    for i in range(count):
        throttle({})
        sender.send(SmsRequest(f"m{i}", f"+82105555{i:04d}", SENDER, "안내"))
    client.close()


def most_in_any_second(moments):
    ordered = sorted(moments)
    return max(
        sum(1 for later in ordered[i:] if later - first < timedelta(seconds=1))
        for i, first in enumerate(ordered)
    )


@pytest.fixture
def prefix(settings):
    return f"{settings.broker_key_prefix}{uuid.uuid4().hex[:6]}:"


def test_two_processes_sending_for_one_sender_never_exceed_the_rate(prefix, twilio) -> None:
    spawn = multiprocessing.get_context("spawn")
    args = (prefix, "twilio:shared", twilio.base_url, twilio.account_sid, twilio.auth_token, PER_PROCESS)
    workers = [spawn.Process(target=send_through_throttle, args=args) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    received = [r.received_at for r in twilio.requests]
    assert len(received) == 2 * PER_PROCESS
    # One more than the rate allows for jitter between the reservation and the fake's clock.
    assert most_in_any_second(received) <= RATE + 1
    assert max(received) - min(received) >= timedelta(seconds=(len(received) - 1) / RATE * 0.9)


def test_a_provider_429_halves_the_rate_for_a_while(prefix) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    waits: list[float] = []
    throttle = RedisThrottle(client, prefix, lambda row: [Bucket("twilio:x", 20.0)], sleep=waits.append)
    # Four slots in one reservation: their spacing is Redis's arithmetic, not this machine's speed.
    before = throttle.reserve([{}] * 4)
    assert throttle.rate_limited({}) == 1
    assert throttle.rate_limited({}) == 1  # the same burst of 429s counts once
    after = throttle.reserve([{}] * 4)
    steps_before = [b - a for a, b in pairwise(before)]
    steps_after = [b - a for a, b in pairwise(after)]
    assert steps_before == pytest.approx([0.05] * 3, abs=1e-6)
    assert steps_after == pytest.approx([0.1] * 3, abs=1e-6)
    assert throttle.slowdown_steps(Bucket("twilio:x", 20.0)) == 1
    client.close()


def test_a_slot_too_far_away_is_not_waited_for(prefix) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    throttle = RedisThrottle(client, prefix, lambda row: [Bucket("twilio:y", 1.0)], max_wait=0.5)
    assert throttle({}) == 0.0
    with pytest.raises(Throttled) as raised:
        throttle({})
    assert raised.value.retryable
    assert raised.value.code == "throttled"
    client.close()


@pytest.fixture
def post(client, auth):
    def post():
        response = client.post("/v1/messages", json=message_body(), headers=auth)
        assert response.status_code == 202, response.json
        return response.json["id"]

    return post


def status_of(ctx, message_id):
    with ctx.engine.connect() as conn:
        return conn.execute(select(messages).where(messages.c.id == message_id)).mappings().one()


def test_a_message_whose_slot_is_far_off_waits_in_the_database_without_losing_an_attempt(
    ctx, post, twilio, prefix
) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    ctx.throttle = RedisThrottle(client, prefix, lambda row: [Bucket("twilio:z", 0.1)], max_wait=1)
    first, second = post(), post()
    assert deliver_many(ctx, [first, second]) == 1
    assert status_of(ctx, first)["status"] == "sent"
    held = status_of(ctx, second)
    assert held["status"] == "scheduled"
    assert held["attempts"] == 0  # waiting for a slot is not a failed attempt
    assert held["error_code"] is None
    # At 0.1/s the next slot is 10 s after the first send.
    assert 8 < (held["send_at"] - status_of(ctx, first)["updated_at"]).total_seconds() < 11
    assert len(twilio.requests) == 1
    client.close()


def test_a_provider_429_slows_the_lane_and_the_message_waits_for_a_retry(ctx, post, twilio) -> None:
    twilio.fail_next(429, 20429)
    message_id = post()
    assert deliver_many(ctx, [message_id]) == 0
    assert status_of(ctx, message_id)["status"] == "scheduled"
    [bucket] = sender_buckets(ctx, status_of(ctx, message_id))
    assert ctx.throttle.slowdown_steps(bucket) == 1


def limit_twilio_to(ctx, per_second: float) -> None:
    ctx.settings = replace(ctx.settings, rate_limits=(("twilio", per_second), ("smtp", 100.0)))


def test_a_burst_of_transactional_messages_reaches_the_provider_no_faster_than_the_limit(
    ctx, post, twilio
) -> None:
    ctx.clock = RunningClock(KOREAN_MORNING)
    limit_twilio_to(ctx, 4.0)
    burst = [post() for _ in range(8)]
    with ThreadPoolExecutor(4) as workers:  # transactional worker threads, one message each
        statuses = list(workers.map(lambda message_id: deliver(ctx, message_id).status, burst))
    assert statuses == ["sent"] * 8
    received = [r.received_at for r in twilio.requests]
    assert len(received) == 8
    assert most_in_any_second(received) <= 4 + 1  # one more for jitter, as above
    assert max(received) - min(received) >= timedelta(seconds=7 / 4 * 0.9)


def test_a_transactional_message_goes_within_a_bounded_wait_while_a_campaign_sends(ctx, post, twilio) -> None:
    ctx.clock = RunningClock(KOREAN_MORNING)
    rate = 2.0
    limit_twilio_to(ctx, rate)
    campaign = [pending_message(ctx, phone=f"+8210666600{i:02d}", category="informational") for i in range(8)]
    with ThreadPoolExecutor(1) as bulk_worker:
        sending = bulk_worker.submit(deliver_many, ctx, campaign)  # about 4 s at 2 per second
        wait_for(lambda: len(twilio.requests) >= 2, what="the campaign under way")
        reminder = post()
        assert status_of(ctx, reminder)["sender"] == status_of(ctx, campaign[0])["sender"]
        asked_at = datetime.now(UTC)
        assert deliver(ctx, reminder).status == "sent"
        assert sending.result(timeout=30) == 8
    [reminder_sent] = [r.received_at for r in twilio.requests if r.params.get("To") == "+821012345678"]
    campaign_sent = [r.received_at for r in twilio.requests if r.params.get("To") != "+821012345678"]
    # Behind at most the slots the campaign booked ahead, and one interval.
    assert reminder_sent - asked_at < timedelta(seconds=BULK_AHEAD_SECONDS + 1 / rate + 0.5)
    assert reminder_sent < max(campaign_sent)
    assert most_in_any_second([reminder_sent, *campaign_sent]) <= rate + 1


def test_every_message_of_a_campaign_with_a_cap_takes_a_slot_from_both_buckets(ctx) -> None:
    row = {"channel": "sms", "sender": SENDER, "campaign_id": None}
    [sender] = sender_buckets(ctx, row)
    assert (sender.name, sender.per_second) == (f"twilio:{SENDER}", 30.0)
    email = sender_buckets(ctx, {"channel": "email", "sender": "noreply@x.kr", "campaign_id": None})
    assert [(b.name, b.per_second) for b in email] == [("smtp:noreply@x.kr", 100.0)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", {"twilio": 30.0, "smtp": 100.0}),
        ("50", {"twilio": 50.0, "smtp": 50.0}),
        ("twilio=5", {"twilio": 5.0, "smtp": 100.0}),
        ("twilio=0, smtp=20", {"twilio": 0.0, "smtp": 20.0}),
    ],
)
def test_rate_limits_are_read_from_the_environment(value, expected) -> None:
    settings = Settings.from_env({"NOTIFIER_SECRET_KEY": "x", "NOTIFIER_RATE_LIMIT_PER_SECOND": value})
    assert dict(settings.rate_limits) == expected


@pytest.mark.parametrize("value", ["fast", "twilio=", "twilio=-1", "=5", "twilio=1e9"])
def test_a_bad_rate_limit_names_the_variable(value) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"NOTIFIER_SECRET_KEY": "x", "NOTIFIER_RATE_LIMIT_PER_SECOND": value})
    assert raised.value.variable == "NOTIFIER_RATE_LIMIT_PER_SECOND"


def test_the_upload_limit_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"NOTIFIER_SECRET_KEY": "x", "NOTIFIER_MAX_UPLOAD_BYTES": "5000000"})
    assert settings.max_upload_bytes == 5_000_000
    assert Settings.from_env({"NOTIFIER_SECRET_KEY": "x"}).max_upload_bytes == 200 * 1024 * 1024
