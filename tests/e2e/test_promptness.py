"""Every accepted message that is due now reaches the provider at once, whatever created it.

The scheduler's sweep of queued messages no worker took is for faults only: these tests send
back to back and together through the API as ``notifier api`` serves it (appointments and
single messages, with and without a rate limit)
and require each message at the Twilio-compatible server within 2 s, and no sweep.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from notifier.centers import service as centers
from tests.conftest import wait_for
from tests.factories import message_body

pytestmark = pytest.mark.slow
WITHIN_SECONDS = 2.0
SWEEP_LINE = "re-queued messages no worker took"


@pytest.fixture
def open_center(ctx):
    record = centers.CenterRecord(
        code="prompt",
        name="시험고용센터",
        phone="041-661-5676",
        sms_sender="041-661-5676",
        quiet_hours="00:00-00:00",  # the run does not depend on the time of day
    )
    centers.load(ctx, [record])
    return "prompt"


@pytest.fixture
def headers(make_key):
    return {"Authorization": f"Bearer {make_key('send', 'appointments')}"}


@pytest.fixture(params=["unlimited", "rate-limited"])
def stack(request, processes):
    """A worker and the scheduler; returns the scheduler, whose output would show a sweep."""
    limit = {"NOTIFIER_RATE_LIMIT_PER_SECOND": "20"} if request.param == "rate-limited" else {}
    processes("worker", "--queues", "transactional", "--concurrency", "2", extra_env=limit)
    return processes("scheduler", extra_env=limit)


@pytest.fixture
def api(processes, api_port):
    """The API as ``notifier api`` serves it: gunicorn, two worker processes of eight threads."""
    url = f"http://127.0.0.1:{api_port}"
    processes("api", "--bind", f"127.0.0.1:{api_port}")
    wait_for(lambda: _ready(url), 60, what="the API")
    return url


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def booking(open_center: str, n: int, round_: int) -> dict:
    starts_at = datetime.now(UTC) + timedelta(days=3, minutes=n)
    return {
        "recipient": {"name": f"홍길동{n}", "phone": f"010-1234-{5600 + n:04d}"},
        "center": open_center,
        "kind": "in_depth_counseling",
        "starts_at": starts_at.isoformat(),
        "location": "상담실 1",
        "version": round_,
    }


def test_appointments_booked_back_to_back_are_confirmed_at_once(
    api, headers, open_center, stack, twilio
) -> None:
    sent = 0
    for round_ in range(3):
        for n in range(8):
            answer = requests.put(
                f"{api}/v1/appointments/prompt-{round_}-{n}",
                json=booking(open_center, n, round_ + 1),
                headers=headers,
                timeout=10,
            )
            assert answer.status_code == 201, answer.text
        answered = time.monotonic()
        sent += 8
        twilio.wait_for_messages(sent, timeout=WITHIN_SECONDS)
        assert time.monotonic() - answered <= WITHIN_SECONDS + 0.1
    assert SWEEP_LINE not in stack.output()


def test_messages_posted_back_to_back_are_sent_at_once(api, headers, open_center, stack, twilio) -> None:
    sent = 0
    for _ in range(3):
        for n in range(6):
            body = message_body(to={"phone": f"010-2222-{3300 + n:04d}", "name": "홍길동"})
            body["center"] = {"code": open_center}
            answer = requests.post(f"{api}/v1/messages", json=body, headers=headers, timeout=10)
            assert answer.status_code == 202, answer.text
        sent += 6
        twilio.wait_for_messages(sent, timeout=WITHIN_SECONDS)
    assert SWEEP_LINE not in stack.output()


def test_messages_posted_together_are_sent_at_once(api, headers, open_center, stack, twilio) -> None:
    def post(n: int) -> int:
        body = message_body(to={"phone": f"010-3333-{4400 + n:04d}", "name": "홍길동"})
        body["center"] = {"code": open_center}
        return requests.post(f"{api}/v1/messages", json=body, headers=headers, timeout=10).status_code

    sent = 0
    with ThreadPoolExecutor(max_workers=8) as clients:
        for _ in range(3):
            assert set(clients.map(post, range(8))) == {202}
            sent += 8
            twilio.wait_for_messages(sent, timeout=WITHIN_SECONDS)
    assert SWEEP_LINE not in stack.output()
