"""A worker killed while SOLAPI has its send: recovery asks SOLAPI's message list, and the
person gets exactly one message. Real worker and scheduler processes, Redis and PostgreSQL;
the real solapi SDK against the SOLAPI-compatible fake.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.conftest import wait_for
from tests.factories import message_body
from tests.fakes.solapi_server import FakeSolapi

pytestmark = pytest.mark.slow


@pytest.fixture
def solapi_fake() -> Iterator[FakeSolapi]:
    with FakeSolapi() as fake:
        yield fake


@pytest.fixture
def env(env: dict[str, str], solapi_fake: FakeSolapi) -> dict[str, str]:
    return {
        **env,
        "SOLAPI_API_KEY": solapi_fake.api_key,
        "SOLAPI_API_SECRET": solapi_fake.api_secret,
        "NOTIFIER_SOLAPI_BASE_URL": solapi_fake.base_url,
    }


def shown(live_api: str, auth: dict[str, str], message_id: str) -> dict:
    return requests.get(f"{live_api}/v1/messages/{message_id}", headers=auth, timeout=5).json()


@pytest.mark.parametrize("solapi_took_it", [True, False])
def test_killing_a_worker_mid_solapi_send_sends_exactly_once(
    live_api, auth, processes, solapi_fake: FakeSolapi, twilio, solapi_took_it: bool
) -> None:
    solapi_fake.hold()
    doomed = processes("worker", "--queues", "transactional", "--concurrency", "1")
    body = message_body(center={"code": "seosan"})
    response = requests.post(f"{live_api}/v1/messages", json=body, headers=auth, timeout=5)
    message_id = response.json()["id"]
    solapi_fake.wait_for_held(1, timeout=20)
    assert shown(live_api, auth, message_id)["status"] == "sending"
    doomed.kill()  # SIGKILL while SOLAPI holds the send
    solapi_fake.release(record=solapi_took_it)

    fast_recovery = {"NOTIFIER_STUCK_AFTER_SECONDS": "1", "NOTIFIER_PROVIDER_TIMEOUT_SECONDS": "0.3"}
    processes("worker", "--queues", "transactional", extra_env=fast_recovery)
    processes("scheduler", extra_env=fast_recovery)
    wait_for(lambda: shown(live_api, auth, message_id)["status"] == "sent", timeout=30, what="recovered")

    [registered] = solapi_fake.messages  # one message reached SOLAPI, so one reaches the person
    assert registered.custom_fields == {"notifierId": message_id}
    assert registered.to == "01012345678"
    assert twilio.messages == []  # and nothing went another way
    message = shown(live_api, auth, message_id)
    assert message["provider_message_id"] == registered.message_id
    history = [h["detail"] or "" for h in message["history"]]
    expected = "provider had accepted it" if solapi_took_it else "before the provider took it"
    assert any(expected in detail for detail in history), history
    # Recovery asked SOLAPI's message list (the SDK's get_messages) for this sender and number,
    # and sent again only when SOLAPI had not taken the first send.
    [asked, *_] = solapi_fake.list_queries
    assert "from=0416615676" in asked and "to=01012345678" in asked
    assert len(solapi_fake.requests) == (1 if solapi_took_it else 2)
