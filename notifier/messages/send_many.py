"""The bulk lane through a provider that takes many messages per call (SOLAPI's send-many).

A bulk task's messages are claimed ``solapi_batch_size`` at a time (one transaction) and the
SMS among them that the claim recorded for a batch provider go in one call. The answer maps
back per message, by our message id: accepted (``sent``), refused with a reason (that message
fails or waits, the others go on), or unknown (left ``sending``; recovery asks the provider).

A refusal that is retryable means the provider certainly did not take the message (the call
never connected, or was answered 5xx/429 before registration, or the balance was short), so
those messages go on one by one through the next provider of their centre (failover), with
the failed provider skipped and counted once by the circuit breaker. Everything else in the
task (email, centres whose first provider sends one message per call) takes the ordinary send
loop (``sending.send_claimed``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from notifier.centers.service import unregistered_sender
from notifier.channels.base import Accepted
from notifier.channels.failover import BatchSender, is_rate_limited
from notifier.context import Context
from notifier.errors import UNKNOWN_OUTCOME, ProviderError
from notifier.messages.claims import claim_many, last_look
from notifier.messages.model import Message
from notifier.messages.outcomes import IN_DOUBT, SENT, Outcome, Outcomes
from notifier.messages.sending import (
    SharedEmail,
    deliver_many,
    publish_again,
    send_claimed,
    sms_request,
    tell_batch_sent,
)
from notifier.messages.throttle import Throttled

log = logging.getLogger("notifier.delivery")


def batch_lead(ctx: Context) -> BatchSender | None:
    """The batch provider most bulk SMS go to now, if the first provider in rotation is one."""
    return ctx.sms.batch_sender(ctx.sms.first(None))


def deliver_bulk(ctx: Context, message_ids: list[str]) -> int:
    """Send a bulk task's messages, batched per call where the provider allows; return how many were sent."""
    if batch_lead(ctx) is None:
        return deliver_many(ctx, message_ids)
    size = ctx.settings.solapi_batch_size
    sent = 0
    with SharedEmail(ctx) as email:
        for start in range(0, len(message_ids), size):
            claimed = claim_many(ctx, message_ids[start : start + size], render=ctx.render_unrendered)
            outcomes = _send_batches(ctx, claimed, email)
            sent += sum(1 for outcome in outcomes.values() if outcome is SENT)
    return sent


def _send_batches(ctx: Context, claimed: list[Message], email: SharedEmail) -> dict[str, Outcome]:
    groups: dict[str, list[Message]] = {}
    for message in claimed:
        provider = message.provider
        if message.channel == "sms" and provider and ctx.sms.batch_sender(provider):
            # From a number not registered with the provider: the send loop passes it on or fails it.
            code = (message.center or {}).get("code")
            if unregistered_sender(ctx, code, provider, message.sender) is None:
                groups.setdefault(provider, []).append(message)
    results: dict[str, Outcome] = {}
    refused_by: set[str] = set()
    for provider, group in groups.items():
        if not ctx.sms.breaker.available(provider):
            continue  # out of rotation since the claim: the send loop takes the next provider
        batch_results, failing_over = _send_group(ctx, provider, group)
        results.update(batch_results)
        if failing_over:
            refused_by.add(provider)
    rest = [message for message in claimed if message.id not in results]
    results.update(send_claimed(ctx, rest, email, ctx.throttle, skip=refused_by))
    if not rest:
        tell_batch_sent(ctx, claimed)  # ``send_claimed`` tells the hooks when it has messages
    return results


def _send_group(
    ctx: Context, provider: str, group: list[Message]
) -> tuple[dict[str, Outcome], list[Message]]:
    """Send ``group`` in one call; return the outcomes kept and the messages left for failover."""
    sender = ctx.sms.batch_sender(provider)
    assert sender is not None
    outcomes = Outcomes(ctx)
    results: dict[str, Outcome] = {}
    failing_over: list[Message] = []
    try:
        ready = _ready(ctx, group, outcomes, results)
        if ready:
            for message in ready:
                results[message.id] = IN_DOUBT  # from here on the provider may have it
            answers = sender.send_many([sms_request(ctx, message) for message in ready])
            failing_over = _map_answers(ctx, provider, ready, answers, outcomes, results)
    finally:
        passed_on = {message.id for message in failing_over}
        for message in group:  # not handed over (a bug, Redis): back to the queue, attempt given back
            if message.id not in results and message.id not in passed_on:
                results[message.id] = outcomes.not_sent(message)
        requeued = outcomes.record()
        if requeued:
            publish_again(ctx, group, set(requeued))
    return results, failing_over


def _ready(
    ctx: Context, group: list[Message], outcomes: Outcomes, results: dict[str, Outcome]
) -> list[Message]:
    """The messages of ``group`` that may go now: a send slot soon, no opt-out, a fresh claim."""
    slots: Sequence[float | Throttled] = [0.0] * len(group)
    throttle = ctx.throttle
    if throttle is not None:
        slots = throttle.reserve(group)
    latest = 0.0
    paced: list[Message] = []
    for message, slot in zip(group, slots, strict=True):
        if isinstance(slot, Throttled):
            results[message.id] = outcomes.waits_for_a_slot(message, slot.wait, slot.message)
        else:
            paced.append(message)
            latest = max(latest, slot)
    if throttle is not None and paced:
        throttle.wait_until(latest)
    now = ctx.clock()
    refused = last_look(ctx, paced, now)
    fresh_for = ctx.settings.stuck_after / 3
    ready: list[Message] = []
    for message in paced:
        if message.id in refused:
            results[message.id] = outcomes.stopped(
                message, refused[message.id].status, refused[message.id].detail
            )
        elif message.claimed_at is None or now - message.claimed_at >= fresh_for:
            results[message.id] = outcomes.not_sent(message)
        else:
            ready.append(message)
    return ready


def _map_answers(
    ctx: Context,
    provider: str,
    ready: list[Message],
    answers: list[Accepted | ProviderError],
    outcomes: Outcomes,
    results: dict[str, Outcome],
) -> list[Message]:
    """Keep each message's outcome; return those the provider certainly did not take."""
    failing_over: list[Message] = []
    answered = False
    for message, answer in zip(ready, answers, strict=True):
        if isinstance(answer, Accepted):
            outcomes.accepted(message, answer)
            results[message.id] = SENT
            answered = True
        elif answer.retryable and not is_rate_limited(answer):
            failing_over.append(message)  # the send loop records it again, on the next provider
            del results[message.id]
        else:
            if is_rate_limited(answer) and ctx.throttle is not None:
                ctx.throttle.rate_limited(message)
            results[message.id] = outcomes.failed(message, answer)
            answered = answered or (not answer.retryable and answer.code != UNKNOWN_OUTCOME)
    if answered:
        ctx.sms.breaker.succeeded(provider)
    if failing_over:
        ctx.sms.breaker.failed(provider)
        log.warning(
            "provider refused a batch; its messages go to the next provider",
            extra={"provider": provider, "count": len(failing_over)},
        )
    return failing_over
