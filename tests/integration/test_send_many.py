"""The bulk lane through SOLAPI: one send-many call per batch, results mapped back per message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifier import bootstrap
from notifier.messages.scheduler import recover_stuck
from notifier.messages.send_many import deliver_bulk
from tests.fakes.solapi_server import FakeSolapi
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.test_campaigns_api import campaign, campaign_messages, create
from tests.integration.test_failover import Clock, context, with_solapi


@pytest.fixture
def solapi() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


@pytest.fixture
def env(env: dict[str, str], solapi: FakeSolapi) -> dict[str, str]:
    return with_solapi(env, solapi)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(settings, clean_db, clock: Clock) -> bootstrap.Context:
    return context(settings, clean_db, clock)


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}


def started(client, admin, ctx, count: int) -> tuple[str, list[str]]:
    people = [{"phone": f"010-7000-{n:04d}", "name": f"사람{n}"} for n in range(count)]
    campaign_id = create(client, admin, campaign(recipients=people, data={"deadline": "12월 19일(금)"}))["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    return campaign_id, [m["id"] for m in campaign_messages(ctx, campaign_id) if m["status"] == "queued"]


def by_phone(ctx, campaign_id: str) -> dict[str, dict]:
    return {m["to_phone"][-4:]: dict(m) for m in campaign_messages(ctx, campaign_id)}


def test_a_batch_is_one_send_many_call_and_each_message_gets_its_own_result(
    client, admin, ctx, clock: Clock, solapi: FakeSolapi, twilio: FakeTwilio
) -> None:
    solapi.reject_number("01070000001", "3010")  # an invalid number: refused at registration
    solapi.leave_out_of_answer("01070000002")  # registered, but missing from the answer
    campaign_id, ids = started(client, admin, ctx, 6)

    assert deliver_bulk(ctx, ids) == 4

    [call] = solapi.requests
    assert len(call["messages"]) == 6
    rows = by_phone(ctx, campaign_id)
    taken = {m.to[-4:]: m.message_id for m in solapi.messages}
    for n in ("0000", "0003", "0004", "0005"):
        assert (rows[n]["status"], rows[n]["provider"], rows[n]["provider_message_id"]) == (
            "sent",
            "solapi",
            taken[n],
        )
    refused = rows["0001"]
    assert (refused["status"], refused["error_code"], refused["provider"]) == ("failed", "3010", "solapi")
    assert refused["error_reason"]  # SOLAPI's reason, kept for the campaign's report
    unknown = rows["0002"]
    assert (unknown["status"], unknown["provider"]) == ("sending", "solapi")  # recovery will ask SOLAPI
    assert twilio.requests == []

    clock.advance(ctx.settings.stuck_after.total_seconds() + 1)
    assert recover_stuck(ctx) == (1, 0)
    recovered = by_phone(ctx, campaign_id)["0002"]
    assert (recovered["status"], recovered["provider_message_id"]) == ("sent", taken["0002"])
    assert len(solapi.requests) == 1 and twilio.requests == []


def test_the_batch_size_is_configurable(client, admin, ctx, solapi: FakeSolapi) -> None:
    ctx.settings = ctx.settings.with_overrides(solapi_batch_size=2)
    _, ids = started(client, admin, ctx, 5)

    assert deliver_bulk(ctx, ids) == 5

    assert [len(call["messages"]) for call in solapi.requests] == [2, 2, 1]


def test_a_batch_solapi_refused_whole_goes_to_twilio_each_message_once(
    client, admin, ctx, solapi: FakeSolapi, twilio: FakeTwilio
) -> None:
    solapi.fail_next(500, "UnknownError")  # answered before registering anything
    campaign_id, ids = started(client, admin, ctx, 3)

    assert deliver_bulk(ctx, ids) == 3

    assert solapi.messages == []
    assert sorted(m.to for m in twilio.messages) == [f"+82107000{n:04d}" for n in range(3)]
    assert {(m["status"], m["provider"]) for m in campaign_messages(ctx, campaign_id)} == {("sent", "twilio")}
