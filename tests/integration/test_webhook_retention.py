"""Retention of the webhook delivery log: NOTIFIER_RETENTION_DAYS after its last attempt, a
delivered or failed delivery is deleted; a pending one stays until it is finished and old.

Read from the outside: the deliveries ``GET /v1/webhooks`` shows and the log line.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from notifier.messages.scheduler import tick
from notifier.webhooks import retention
from notifier.webhooks import service as webhooks
from tests.conftest import wait_for
from tests.integration.test_appointments_api import booking
from tests.integration.test_recipient_page_and_webhooks import csrf, page_path


def confirm(client, headers, clock, external_id: str) -> None:
    body = booking(starts_at=(clock.now + timedelta(days=2)).isoformat())
    appointment = client.put(f"/v1/appointments/{external_id}", json=body, headers=headers).json
    token = csrf(client.get(page_path(appointment)).get_data(as_text=True))
    assert client.post(page_path(appointment) + "/confirm", data={"csrf_token": token}).status_code == 303


def statuses(client, headers) -> list[str]:
    return sorted(d["status"] for d in client.get("/v1/webhooks", headers=headers).json["deliveries"])


def test_finished_deliveries_are_deleted_after_the_retention_and_pending_ones_stay(
    client, headers, clock, ctx, receiver, caplog
) -> None:
    body = {"url": receiver.url, "events": ["appointment.confirmed"]}
    assert client.put("/v1/webhooks", json=body, headers=headers).status_code in (200, 201)
    receiver.answer(200, 400, 503)  # delivered, failed at once, retried later
    for external_id in ("w1", "w2", "w3"):
        confirm(client, headers, clock, external_id)
    assert webhooks.deliver_due(ctx) == 3
    assert statuses(client, headers) == ["delivered", "failed", "pending"]
    clock.advance(timedelta(days=ctx.settings.retention_days, hours=2).total_seconds())
    confirm(client, headers, clock, "w4")  # a new one, not yet attempted

    with caplog.at_level(logging.INFO, logger="notifier.retention"):
        report = tick(ctx)  # the scheduler's round runs the hook (and attempts what is due: both pending)

    assert report.extra["webhook_deliveries_deleted"] == 2
    both = ["delivered", "delivered"]  # the old retried one and the new one, attempted by the tick's pool
    wait_for(lambda: statuses(client, headers) == both, what="the tick's two attempts")
    logged = [r for r in caplog.records if r.message == "retention: deleted old webhook deliveries"]
    assert [r.deliveries for r in logged] == [2]
    ctx.memo.clear()
    assert retention.forget_old_deliveries(ctx) == {}  # finished, but lately
