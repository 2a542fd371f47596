"""Campaigns end to end: real worker and scheduler processes, Redis, PostgreSQL, FakeTwilio.

Every recipient gets exactly one message even when a bulk worker is killed mid-campaign; a
cancel leaves the rest unsent; a transactional message is not stuck behind a campaign.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

from tests.conftest import wait_for
from tests.factories import message_body

pytestmark = pytest.mark.slow

RECIPIENTS = 300
# Fast recovery, and a rate limit far above what the test sends, so neither slows it down.
FAST = {
    "NOTIFIER_STUCK_AFTER_SECONDS": "3",
    "NOTIFIER_PROVIDER_TIMEOUT_SECONDS": "1",
    "NOTIFIER_REQUEUE_AFTER_SECONDS": "1",
    "NOTIFIER_RATE_LIMIT_PER_SECOND": "5000",
}


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', 'send', name='admin', owner='seosan-admin')}"}


def start_campaign(live_api, admin, count=RECIPIENTS):
    body = {
        "name": "도약보장패키지 안내",
        "template": "program_announcement_jobseekers",
        "category": "informational",
        "center": "seosan",
        "channel": "sms",
        "recipients": [{"phone": f"010-5{i // 10000:03d}-{i % 10000:04d}"} for i in range(count)],
    }
    created = requests.post(f"{live_api}/v1/campaigns", json=body, headers=admin, timeout=30)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    started = requests.post(f"{live_api}/v1/campaigns/{campaign_id}/start", headers=admin, timeout=30)
    assert started.status_code == 200, started.text
    return campaign_id


def campaign(live_api, admin, campaign_id):
    return requests.get(f"{live_api}/v1/campaigns/{campaign_id}", headers=admin, timeout=10).json()


def test_a_campaign_reaches_everyone_exactly_once_though_a_worker_dies(
    live_api, admin, processes, twilio
) -> None:
    twilio.latency = 0.05
    doomed = processes("worker", "--queues", "bulk", "--concurrency", "4", extra_env=FAST)
    processes("scheduler", extra_env=FAST)
    campaign_id = start_campaign(live_api, admin)
    wait_for(lambda: len(twilio.messages) >= 60, timeout=60, what="the campaign under way")
    doomed.kill()  # SIGKILL mid-campaign: tasks unacknowledged, messages mid-send
    assert len(twilio.messages) < RECIPIENTS
    processes("worker", "--queues", "bulk", "--concurrency", "8", extra_env=FAST)
    wait_for(
        lambda: campaign(live_api, admin, campaign_id)["status"] == "finished", timeout=120, what="finished"
    )
    sent_to = Counter(m.to for m in twilio.messages)
    assert len(sent_to) == RECIPIENTS
    assert set(sent_to.values()) == {1}
    assert campaign(live_api, admin, campaign_id)["counts"] == {"sent": RECIPIENTS}


def test_cancel_mid_campaign_leaves_the_rest_unsent(live_api, admin, processes, twilio) -> None:
    twilio.latency = 0.05
    processes("worker", "--queues", "bulk", "--concurrency", "2", extra_env=FAST)
    processes("scheduler", extra_env=FAST)
    campaign_id = start_campaign(live_api, admin)
    wait_for(lambda: len(twilio.messages) >= 20, timeout=60, what="the campaign under way")
    response = requests.post(f"{live_api}/v1/campaigns/{campaign_id}/cancel", headers=admin, timeout=30)
    assert response.status_code == 200, response.text

    def settled():
        counts = campaign(live_api, admin, campaign_id)["counts"]
        return counts if not {"sending", "queued", "scheduled"} & set(counts) else None

    counts = wait_for(settled, timeout=30, what="no message in flight")
    assert counts["cancelled"] > 0
    assert counts["sent"] + counts["cancelled"] == RECIPIENTS
    assert len(twilio.messages) == counts["sent"]
    assert len({m.to for m in twilio.messages}) == counts["sent"]
    assert campaign(live_api, admin, campaign_id)["status"] == "cancelled"


def test_a_transactional_message_goes_out_promptly_during_a_campaign(
    live_api, admin, processes, twilio
) -> None:
    twilio.latency = 0.05
    processes("worker", "--queues", "bulk", "--concurrency", "2", extra_env=FAST)
    processes("worker", "--queues", "transactional", "--concurrency", "2", extra_env=FAST)
    processes("scheduler", extra_env=FAST)
    start_campaign(live_api, admin)
    wait_for(lambda: len(twilio.messages) >= 20, timeout=60, what="the campaign under way")
    posted = time.monotonic()
    response = requests.post(f"{live_api}/v1/messages", json=message_body(), headers=admin, timeout=10)
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]

    def sent():
        shown = requests.get(f"{live_api}/v1/messages/{message_id}", headers=admin, timeout=10).json()
        return shown["status"] == "sent"

    wait_for(sent, timeout=10, what="the transactional message sent")
    assert time.monotonic() - posted < 3.0
    assert len(twilio.messages) < RECIPIENTS  # the campaign was still going
