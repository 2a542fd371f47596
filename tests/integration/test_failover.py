"""SMS failover: SOLAPI first, Twilio when SOLAPI certainly did not take a message.

The real solapi SDK and twilio library talk to the local fakes; the circuit breaker's state
lives in this run's Redis database under the test's own key prefix.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from notifier import bootstrap
from notifier.bootstrap import load_shipped_data, wire
from notifier.channels.breaker import RedisBreaker
from notifier.domain.breaker import BreakerRules, Circuit
from notifier.messages import repository as repo
from notifier.messages.scheduler import recover_stuck
from notifier.messages.sending import deliver
from tests.conftest import REDIS_URL, RUN_ID
from tests.factories import message_body
from tests.fakes.solapi_server import FakeSolapi
from tests.fakes.twilio_server import FakeTwilio

RULES = BreakerRules(consecutive=5, window_seconds=30, min_calls=10, cooldown_seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def solapi() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


def with_solapi(env: dict[str, str], solapi: FakeSolapi) -> dict[str, str]:
    """The test environment with SOLAPI configured too (ahead of Twilio: the default order)."""
    return {
        **env,
        "SOLAPI_API_KEY": solapi.api_key,
        "SOLAPI_API_SECRET": solapi.api_secret,
        "NOTIFIER_SOLAPI_BASE_URL": solapi.base_url,
    }


def context(settings, engine, clock: Clock) -> bootstrap.Context:
    built = bootstrap.build(settings, engine=engine, clock=clock)
    load_shipped_data(built)
    return wire(built)


@pytest.fixture
def env(env: dict[str, str], solapi: FakeSolapi) -> dict[str, str]:
    return with_solapi(env, solapi)


@pytest.fixture
def ctx(settings, clean_db, clock: Clock) -> bootstrap.Context:
    return context(settings, clean_db, clock)


@pytest.fixture
def post(client, auth):
    def post(body):
        response = client.post("/v1/messages", json=body, headers=auth)
        assert response.status_code == 202, response.json
        return response.json["id"]

    return post


@pytest.fixture
def breakers(clock: Clock) -> Iterator[tuple[RedisBreaker, RedisBreaker]]:
    """Two workers' breakers over one Redis prefix."""
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"notifier-test-{RUN_ID}-breaker-{id(clock)}:"
    yield (
        RedisBreaker(client, prefix, RULES, clock.seconds),
        RedisBreaker(client, prefix, RULES, clock.seconds),
    )
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def row(ctx, message_id):
    with ctx.engine.connect() as conn:
        return repo.get(conn, message_id)


# -- the breaker's state in Redis ----------------------------------------------------------


def test_a_provider_out_of_rotation_is_out_for_every_worker_until_a_probe_answers(breakers, clock) -> None:
    one, other = breakers
    for _ in range(4):
        assert not one.failed("solapi")
    assert other.available("solapi")
    assert one.failed("solapi")  # the fifth in a row

    assert not other.available("solapi") and other.state("solapi") is Circuit.OPEN
    assert other.available("twilio")  # providers are judged one by one
    clock.advance(30)
    assert other.available("solapi")  # this worker takes the probe...
    assert not one.available("solapi")  # ...and no other worker does meanwhile
    other.succeeded("solapi")
    assert one.available("solapi") and one.state("solapi") is Circuit.CLOSED


def test_a_failed_probe_starts_another_cool_down(breakers, clock) -> None:
    one, other = breakers
    for _ in range(5):
        one.failed("solapi")
    clock.advance(30)
    assert one.available("solapi")
    assert one.failed("solapi")
    clock.advance(29)
    assert not other.available("solapi")
    clock.advance(1)
    assert other.available("solapi")


def test_half_the_calls_of_the_window_failing_takes_a_provider_out(breakers, clock) -> None:
    one, _ = breakers
    tripped = []
    for _ in range(5):  # success, failure, ...: never two failures in a row
        one.succeeded("solapi")
        clock.advance(1)
        tripped.append(one.failed("solapi"))
        clock.advance(1)
    assert tripped == [False, False, False, False, True]  # 5 of 10 calls failed
    clock.advance(RULES.cooldown_seconds + RULES.window_seconds)
    one.succeeded("solapi")
    assert not one.failed("solapi")  # the old failures left the window


def test_an_unreachable_redis_keeps_every_provider_in_rotation(clock) -> None:
    gone = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    breaker = RedisBreaker(gone, "x:", RULES, clock.seconds)
    assert breaker.available("solapi")
    assert not breaker.failed("solapi")


# -- sending through the providers -------------------------------------------------------


def test_solapi_comes_first_and_the_message_records_it(ctx, post, client, auth, solapi, twilio) -> None:
    message_id = post(message_body())
    assert deliver(ctx, message_id).status == "sent"
    [taken] = solapi.wait_for_messages(1)
    assert twilio.requests == []
    shown = client.get(f"/v1/messages/{message_id}", headers=auth).json
    assert (shown["provider"], shown["provider_message_id"]) == ("solapi", taken.message_id)


def test_a_refused_request_goes_to_twilio_and_the_message_says_so(
    ctx, post, client, auth, solapi: FakeSolapi, twilio: FakeTwilio
) -> None:
    message_id = post(message_body())
    solapi.fail_next(500, "UnknownError", times=5)  # answered before registration: not taken

    assert deliver(ctx, message_id).status == "sent"

    assert solapi.messages == [] and len(solapi.requests) == 1
    [sent] = twilio.messages
    shown = client.get(f"/v1/messages/{message_id}", headers=auth).json
    assert (shown["provider"], shown["provider_message_id"]) == ("twilio", sent.sid)


def test_an_unknown_outcome_never_goes_to_twilio_recovery_asks_solapi(
    ctx, post, clock: Clock, solapi: FakeSolapi, twilio: FakeTwilio
) -> None:
    message_id = post(message_body())
    solapi.drop_next()  # SOLAPI registers it, the answer never comes

    assert deliver(ctx, message_id).status == "sending"
    assert row(ctx, message_id)["provider"] == "solapi"  # recorded before the call
    assert twilio.requests == []

    clock.advance(ctx.settings.stuck_after.total_seconds() + 1)
    assert recover_stuck(ctx) == (1, 0)
    [taken] = solapi.messages
    settled = row(ctx, message_id)
    assert (settled["status"], settled["provider"], settled["provider_message_id"]) == (
        "sent",
        "solapi",
        taken.message_id,
    )
    assert twilio.requests == []


def test_a_stopped_solapi_leaves_rotation_and_gets_messages_again_after_its_cool_down(
    ctx, post, clock: Clock, solapi: FakeSolapi, twilio: FakeTwilio, settings
) -> None:
    port = solapi.port
    solapi.stop()
    during = [post(message_body(to={"phone": f"010-1234-{5670 + n}"})) for n in range(6)]
    for message_id in during:
        assert deliver(ctx, message_id).status == "sent"
    assert [row(ctx, i)["provider"] for i in during] == ["twilio"] * 6
    assert len(twilio.messages) == 6
    # Another worker (another process's context) sees SOLAPI out of rotation too.
    other = bootstrap.build(settings, engine=ctx.engine, clock=clock)
    assert other.sms.breaker.state("solapi") is Circuit.OPEN

    solapi.start(port)
    still_cooling = post(message_body(to={"phone": "010-2222-3333"}))
    assert deliver(ctx, still_cooling).status == "sent"
    assert row(ctx, still_cooling)["provider"] == "twilio"

    clock.advance(ctx.settings.breaker.cooldown_seconds)
    after = [post(message_body(to={"phone": f"010-9999-{1000 + n}"})) for n in range(2)]
    for message_id in after:
        assert deliver(ctx, message_id).status == "sent"
    assert [row(ctx, i)["provider"] for i in after] == ["solapi", "solapi"]
    assert len(solapi.messages) == 2 and len(twilio.messages) == 7
