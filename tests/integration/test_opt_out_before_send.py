"""An opt-out answered while a claimed batch waits for its send slots stops the person's message."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from notifier.consent.opt_outs import SETTLE_SECONDS
from notifier.messages.claims import claim
from notifier.messages.sending import LAST_LOOK_SECONDS, deliver_many
from notifier.messages.throttle import Bucket, RedisThrottle
from tests.conftest import REDIS_URL, wait_for
from tests.factories import KOREAN_MORNING, RunningClock
from tests.integration.test_opt_outs import PHONE, last_detail, message, opt_out, pending_message


@pytest.fixture
def campaigns(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='crm')}"}


def test_an_opt_out_answered_while_the_batch_waits_for_its_slots_reaches_no_provider(
    client, campaigns, ctx, twilio
) -> None:
    ctx.clock = RunningClock(KOREAN_MORNING)
    client_redis = redis.Redis.from_url(REDIS_URL)
    slow = [Bucket("twilio:one-per-second", 1.0)]
    ctx.throttle = RedisThrottle(client_redis, ctx.settings.broker_key_prefix, lambda row: slow, max_wait=10)
    others = [pending_message(ctx, phone=f"+8210555500{i:02d}", category="informational") for i in range(3)]
    theirs = pending_message(ctx, phone=PHONE, category="informational")
    batch = [others[0], others[1], theirs, others[2]]  # one claim; slots 1 s apart
    with ThreadPoolExecutor(1) as worker:
        sending = worker.submit(deliver_many, ctx, batch)
        wait_for(lambda: twilio.messages, what="the batch's first SMS")
        answer = opt_out(client, campaigns, phone="010-1234-5678", scope="all", source="api")
        assert answer.status_code == 201, answer.json
        assert sending.result(timeout=30) == 3
    assert sorted(m.to for m in twilio.messages) == sorted(message(ctx, i)["to_phone"] for i in others)
    assert message(ctx, theirs)["status"] == "suppressed"
    assert last_detail(ctx, theirs).startswith("recipient opted out (all")
    client_redis.close()


def test_while_a_covered_message_is_being_sent_the_answer_waits_out_the_last_look(
    client, campaigns, ctx
) -> None:
    ctx.clock = RunningClock(KOREAN_MORNING)
    claimed = pending_message(ctx, phone=PHONE, category="informational")
    assert claim(ctx, claimed) is not None  # a worker holds it and may hand it over any moment
    asked = time.monotonic()
    assert opt_out(client, campaigns, phone=PHONE, scope="all", source="api").status_code == 201
    # Any later provider call follows a look that sees the opt-out.
    assert time.monotonic() - asked >= SETTLE_SECONDS > LAST_LOOK_SECONDS
    assert message(ctx, claimed)["status"] == "sending"  # left to its worker's last look
