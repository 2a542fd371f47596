"""End to end through real worker and scheduler processes, Redis and PostgreSQL.

The API runs in-process over real HTTP (so Twilio's callbacks can reach it); workers and the
scheduler are separate processes started with the ``notifier`` command, as in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from notifier.messages import repository as repo
from notifier.messages.accept import new_message_row
from tests.conftest import wait_for
from tests.factories import email_body, message_body

pytestmark = pytest.mark.slow


def get(live_api, auth, message_id):
    return requests.get(f"{live_api}/v1/messages/{message_id}", headers=auth, timeout=5).json()


def post(live_api, auth, body):
    response = requests.post(f"{live_api}/v1/messages", json=body, headers=auth, timeout=5)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def test_sms_from_api_to_handset_and_back_through_a_worker_process(live_api, auth, processes, twilio) -> None:
    processes("worker", "--queues", "transactional,bulk", "--concurrency", "2")
    message_id = post(live_api, auth, message_body())
    [sent] = twilio.wait_for_messages(1, timeout=20)
    wait_for(lambda: get(live_api, auth, message_id)["status"] == "sent", what="sent")
    assert twilio.send_status_callback(sent.sid, "delivered") == 204
    final = get(live_api, auth, message_id)
    assert final["status"] == "delivered"
    assert final["provider_message_id"] == sent.sid
    assert [h["status"] for h in final["history"]] == ["queued", "sending", "sent", "delivered"]


def test_email_through_a_worker_process(live_api, auth, processes, smtp) -> None:
    processes("worker", "--queues", "transactional,bulk")
    message_id = post(live_api, auth, email_body())
    [mail] = smtp.wait_for_messages(1, timeout=20)
    assert mail.rcpt_tos == ["hong@example.com"]
    wait_for(lambda: get(live_api, auth, message_id)["status"] == "sent", what="sent")


def test_future_send_goes_out_on_time_through_the_scheduler(live_api, auth, processes, twilio) -> None:
    processes("worker", "--queues", "transactional")
    processes("scheduler")
    send_at = datetime.now(UTC) + timedelta(seconds=3)
    message_id = post(live_api, auth, message_body(send_at=send_at.isoformat()))
    assert get(live_api, auth, message_id)["status"] == "scheduled"
    [sent] = twilio.wait_for_messages(1, timeout=20)
    assert sent.date_created >= send_at.replace(microsecond=0)
    assert datetime.now(UTC) - send_at < timedelta(seconds=10)


def test_temporary_failure_is_retried_by_the_scheduler_and_sent_once(
    live_api, auth, processes, twilio
) -> None:
    twilio.fail_next(503, times=2)
    processes("worker", "--queues", "transactional")
    processes("scheduler")
    message_id = post(live_api, auth, message_body())
    twilio.wait_for_messages(1, timeout=30)
    wait_for(lambda: get(live_api, auth, message_id)["status"] == "sent", timeout=10, what="sent")
    assert len(twilio.requests) == 3
    assert len(twilio.messages) == 1


@pytest.mark.parametrize("provider_took_it", [True, False])
def test_killing_a_worker_mid_send_loses_nothing_and_sends_once(
    live_api, auth, processes, twilio, provider_took_it
) -> None:
    twilio.hold()
    doomed = processes("worker", "--queues", "transactional", "--concurrency", "1")
    message_id = post(live_api, auth, message_body())
    twilio.wait_for_held(1, timeout=20)
    assert get(live_api, auth, message_id)["status"] == "sending"
    doomed.kill()  # SIGKILL while the provider call is in flight
    twilio.release(record=provider_took_it)
    fast_recovery = {"NOTIFIER_STUCK_AFTER_SECONDS": "1", "NOTIFIER_PROVIDER_TIMEOUT_SECONDS": "0.3"}
    processes("worker", "--queues", "transactional", extra_env=fast_recovery)
    processes("scheduler", extra_env=fast_recovery)
    wait_for(lambda: get(live_api, auth, message_id)["status"] == "sent", timeout=30, what="recovered")
    assert len(twilio.messages) == 1
    history = [h["detail"] or "" for h in get(live_api, auth, message_id)["history"]]
    expected = "provider had accepted it" if provider_took_it else "before the provider took it"
    assert any(expected in detail for detail in history), history


def stored_sms(ctx, count, *, owner, prefix, template_key, text, lane="transactional"):
    """``count`` rendered SMS rows to numbers ``prefix``00000 up, stored as queued; not yet rung."""
    from notifier.messages.accept import Recipient
    from notifier.templates.rendering import RenderedMessage

    now = ctx.clock()
    rendered = RenderedMessage("sms", "ko", text)
    rows = [
        new_message_row(
            ctx,
            owner=owner,
            channel="sms",
            recipient=Recipient(f"{prefix}{i:05d}", None, "", "ko"),
            center={"name": "서산고용복지+센터"},
            rendered=rendered,
            template_key=template_key,
            template_version=1,
            data={},
            now=now,
            send_at=now,
            lane=lane,
        )
        for i in range(count)
    ]
    with ctx.engine.begin() as conn:
        repo.insert_many(conn, rows, now)
    return rows


def test_bulk_backlog_never_delays_the_transactional_lane(ctx, live_api, auth, processes, twilio) -> None:
    rows = stored_sms(
        ctx,
        200,
        owner="admin",
        prefix="+8210555",
        template_key="program_announcement_jobseekers",
        text="안내 문자입니다. 서산고용복지+센터 041-661-5676",
        lane="bulk",
    )
    ctx.publish("bulk", [r["id"] for r in rows])  # 200 bulk messages wait; no bulk worker runs
    processes("worker", "--queues", "transactional")
    message_id = post(live_api, auth, message_body())
    wait_for(
        lambda: get(live_api, auth, message_id)["status"] == "sent", timeout=20, what="transactional sent"
    )
    assert [m.to for m in twilio.messages] == ["+821012345678"]


def test_messages_accepted_together_share_a_task_and_are_each_sent_once(
    live_api, auth, ctx, processes, twilio
) -> None:
    processes("worker", "--queues", "transactional", "--concurrency", "2")
    rows = stored_sms(
        ctx,
        11,
        owner="booking-system",
        prefix="+8210777",
        template_key="appointment_confirmation",
        text="상담 예약 안내입니다. 서산고용복지+센터 041-661-5676",
    )
    ctx.publish("transactional", [r["id"] for r in rows])  # shares of 8 and 3: two tasks
    sent = twilio.wait_for_messages(11, timeout=30)
    assert sorted(m.to for m in sent) == sorted(r["to_phone"] for r in rows)
    wait_for(lambda: all(get(live_api, auth, r["id"])["status"] == "sent" for r in rows), what="all sent")
