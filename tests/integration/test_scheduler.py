"""The scheduler's tick with a pinned clock: due, expired, lost and stuck messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifier.messages import repository as repo
from notifier.messages import scheduler
from notifier.messages.accept import accept_message
from notifier.messages.claims import claim
from notifier.messages.sending import deliver
from notifier.schemas import MessageIn
from tests.factories import email_body, message_body
from tests.integration.test_delivery import FrozenClock


@pytest.fixture
def clock(ctx):
    clock = FrozenClock(ctx.clock())
    ctx.clock = clock
    return clock


@pytest.fixture
def rung(ctx):
    calls: list[tuple[str, list[str]]] = []
    ctx.publish = lambda lane, ids: calls.append((lane, list(ids)))
    return calls


def accept(ctx, body):
    return accept_message(ctx, "owner", MessageIn.model_validate(body), body, None)[1]["id"]


def status(ctx, message_id):
    with ctx.engine.connect() as conn:
        return repo.get(conn, message_id)["status"]


def test_a_scheduled_message_is_queued_when_its_time_comes(ctx, clock, rung) -> None:
    send_at = (clock.now + timedelta(minutes=10)).isoformat()
    message_id = accept(ctx, message_body(send_at=send_at))
    assert rung == []
    assert scheduler.tick(ctx).queued == 0
    clock.advance(9 * 60)
    assert scheduler.tick(ctx).queued == 0
    clock.advance(60)
    assert scheduler.tick(ctx).queued == 1
    assert rung == [("transactional", [message_id])]
    assert status(ctx, message_id) == "queued"
    assert scheduler.tick(ctx).queued == 0  # never twice


def test_a_message_whose_validity_passed_is_expired_not_sent_late(ctx, clock, rung, twilio) -> None:
    message_id = accept(ctx, message_body(send_at=(clock.now + timedelta(minutes=1)).isoformat()))
    clock.advance(ctx.settings.message_validity.total_seconds() + 3600)
    report = scheduler.tick(ctx)
    assert report.expired == 1 and report.queued == 0
    assert status(ctx, message_id) == "expired"
    assert deliver(ctx, message_id).status == "skipped"
    assert twilio.requests == []


def test_a_queued_message_whose_task_was_lost_is_rung_again(ctx, clock, rung) -> None:
    message_id = accept(ctx, message_body())
    rung.clear()
    clock.advance(ctx.settings.requeue_after.total_seconds() - 1)
    assert scheduler.tick(ctx).requeued == 0
    clock.advance(2)
    assert scheduler.tick(ctx).requeued == 1
    assert rung == [("transactional", [message_id])]
    assert scheduler.tick(ctx).requeued == 0  # rung once per period, not every tick


def test_stuck_sms_the_provider_already_took_is_marked_sent_not_resent(ctx, clock, rung, twilio) -> None:
    message_id = accept(ctx, message_body())
    row = claim(ctx, message_id)  # the worker claimed it ...
    from notifier.messages.sending import send_sms

    send_sms(ctx, row)  # ... the provider took it, and the worker died before recording it
    clock.advance(ctx.settings.stuck_after.total_seconds() + 1)
    report = scheduler.tick(ctx)
    assert (report.recovered_sent, report.recovered_requeued) == (1, 0)
    with ctx.engine.connect() as conn:
        recovered = repo.get(conn, message_id)
    assert recovered["status"] == "sent"
    assert recovered["provider_message_id"] == twilio.messages[0].sid
    assert len(twilio.requests) == 1


def test_stuck_sms_the_provider_never_got_is_sent_again_once(ctx, clock, rung, twilio) -> None:
    message_id = accept(ctx, message_body())
    claim(ctx, message_id)  # the worker died before calling the provider
    rung.clear()
    clock.advance(ctx.settings.stuck_after.total_seconds() + 1)
    assert scheduler.tick(ctx).recovered_requeued == 1
    assert rung == [("transactional", [message_id])]
    assert deliver(ctx, message_id).status == "sent"
    assert deliver(ctx, message_id).status == "skipped"
    assert len(twilio.messages) == 1


def test_stuck_email_is_sent_again_with_the_same_message_id(ctx, clock, rung, smtp) -> None:
    message_id = accept(ctx, email_body())
    claim(ctx, message_id)
    clock.advance(ctx.settings.stuck_after.total_seconds() + 1)
    assert scheduler.tick(ctx).recovered_requeued == 1
    assert deliver(ctx, message_id).status == "sent"
    [mail] = smtp.wait_for_messages(1)
    assert mail.message["Message-ID"].startswith(f"<{message_id}@")


def test_a_message_still_within_its_claim_window_is_left_alone(ctx, clock, rung) -> None:
    message_id = accept(ctx, message_body())
    claim(ctx, message_id)
    clock.advance(ctx.settings.stuck_after.total_seconds() - 1)
    report = scheduler.tick(ctx)
    assert (report.recovered_sent, report.recovered_requeued) == (0, 0)
    assert status(ctx, message_id) == "sending"


def test_an_unreachable_broker_loses_nothing(ctx, clock) -> None:
    def broken(lane, ids):
        raise ConnectionError("broker down")

    ctx.publish = broken
    message_id = accept(ctx, message_body())  # still accepted: the row is the truth
    assert status(ctx, message_id) == "queued"
    delivered = []
    ctx.publish = lambda lane, ids: delivered.extend(ids)
    clock.advance(ctx.settings.requeue_after.total_seconds() + 1)
    scheduler.tick(ctx)
    assert delivered == [message_id]


def test_a_twin_schedulers_late_update_cannot_pull_a_claimed_message_back(ctx, clock, rung) -> None:
    from notifier.domain.message_status import Status
    from notifier.messages.tables import messages

    message_id = accept(ctx, message_body())
    claim(ctx, message_id)  # a worker has it
    with ctx.engine.begin() as conn:  # the twin scheduler's UPDATE, from its stale SELECT
        moved = repo.transition_many(
            conn, messages.c.id.in_([message_id]), Status.QUEUED, clock.now, only_from=[Status.SCHEDULED]
        )
    assert moved == []
    assert status(ctx, message_id) == "sending"
