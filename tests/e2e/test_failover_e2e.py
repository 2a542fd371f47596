"""Failover end to end: SOLAPI stops mid-campaign, the rest goes through Twilio, once each.

Real worker and scheduler processes, Redis (the circuit breaker's shared state), PostgreSQL,
the SOLAPI fake (driven by the real solapi SDK) and the Twilio fake.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from notifier.domain.breaker import Circuit
from tests.conftest import wait_for
from tests.factories import message_body
from tests.fakes.solapi_server import FakeSolapi
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.test_failover import with_solapi

pytestmark = pytest.mark.slow

RECIPIENTS = 300
COOLDOWN_SECONDS = 2
FAST = {
    "NOTIFIER_STUCK_AFTER_SECONDS": "3",
    "NOTIFIER_PROVIDER_TIMEOUT_SECONDS": "1",
    "NOTIFIER_REQUEUE_AFTER_SECONDS": "1",
    "NOTIFIER_RATE_LIMIT_PER_SECOND": "5000",
}


@pytest.fixture
def solapi() -> Iterator[FakeSolapi]:
    with FakeSolapi(latency=0.05) as fake:
        yield fake


@pytest.fixture
def env(env: dict[str, str], solapi: FakeSolapi) -> dict[str, str]:
    return {
        **with_solapi(env, solapi),
        "NOTIFIER_SOLAPI_BATCH_SIZE": "10",
        "NOTIFIER_BREAKER_COOLDOWN_SECONDS": str(COOLDOWN_SECONDS),
    }


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', 'send', name='admin', owner='seosan-admin')}"}


def domestic(number: str) -> str:
    return "0" + number.removeprefix("+82") if number.startswith("+82") else number


def start_campaign(live_api: str, admin: dict[str, str]) -> str:
    body = {
        "name": "도약보장패키지 안내",
        "template": "program_announcement_jobseekers",
        "category": "informational",
        "center": "seosan",
        "channel": "sms",
        "recipients": [{"phone": f"010-6{i // 10000:03d}-{i % 10000:04d}"} for i in range(RECIPIENTS)],
    }
    created = requests.post(f"{live_api}/v1/campaigns", json=body, headers=admin, timeout=30)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    started = requests.post(f"{live_api}/v1/campaigns/{campaign_id}/start", headers=admin, timeout=30)
    assert started.status_code == 200, started.text
    return str(campaign_id)


def get(live_api: str, admin: dict[str, str], path: str) -> dict:
    return requests.get(f"{live_api}{path}", headers=admin, timeout=10).json()


def test_solapi_stopped_mid_campaign_the_rest_goes_through_twilio_once_each_and_solapi_comes_back(
    live_api, admin, processes, ctx, solapi: FakeSolapi, twilio: FakeTwilio
) -> None:
    twilio.latency = 0.02
    processes("worker", "--queues", "bulk", "--concurrency", "4", extra_env=FAST)
    processes("worker", "--queues", "transactional", "--concurrency", "2", extra_env=FAST)
    processes("scheduler", extra_env=FAST)
    port = solapi.port
    campaign_id = start_campaign(live_api, admin)
    wait_for(lambda: len(solapi.messages) >= 60, timeout=60, what="the campaign under way through SOLAPI")

    solapi.stop()
    wait_for(lambda: len(twilio.messages) >= 60, timeout=60, what="the rest going through Twilio")
    assert ctx.sms.breaker.state("solapi") is not Circuit.CLOSED  # out of rotation for every worker
    solapi.start(port)  # back (recovery may need to ask it about a message sent as it stopped)
    wait_for(
        lambda: get(live_api, admin, f"/v1/campaigns/{campaign_id}")["status"] == "finished",
        timeout=120,
        what="the campaign finished",
    )

    received = Counter(domestic(m.to) for m in solapi.messages) + Counter(
        domestic(m.to) for m in twilio.messages
    )
    assert len(received) == RECIPIENTS
    assert set(received.values()) == {1}  # each person exactly one message, across both providers
    assert get(live_api, admin, f"/v1/campaigns/{campaign_id}")["counts"] == {"sent": RECIPIENTS}
    assert len(solapi.messages) < RECIPIENTS and len(twilio.messages) < RECIPIENTS

    wait_for(
        lambda: ctx.sms.breaker.state("solapi") is not Circuit.OPEN,
        timeout=COOLDOWN_SECONDS + 5,
        what="the cool-down over",
    )
    # Half-open: the first message is the probe (others meanwhile go on through Twilio); once it
    # is answered SOLAPI is back in rotation for every message that follows.
    shown = []
    for n in range(3):
        response = requests.post(
            f"{live_api}/v1/messages",
            json=message_body(to={"phone": f"010-9000-{n:04d}"}),
            headers=admin,
            timeout=10,
        )
        assert response.status_code == 202, response.text
        message_id = response.json()["id"]
        shown.append(
            wait_for(
                lambda i=message_id: (
                    (m := get(live_api, admin, f"/v1/messages/{i}"))["status"] == "sent" and m
                ),
                timeout=30,
                what="a message after the cool-down sent",
            )
        )
        if n == 0:
            assert ctx.sms.breaker.state("solapi") is Circuit.CLOSED  # the probe was answered
    assert [m["provider"] for m in shown] == ["solapi"] * 3
    assert {f"0109000{n:04d}" for n in range(3)} <= {m.to for m in solapi.messages}
