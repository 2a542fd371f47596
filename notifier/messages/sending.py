"""Sending messages: one loop for one message or many, claimed together, sent one by one.

A task's ids are claimed in batches of ``CLAIM_BATCH`` (``claims``: one transaction per
batch, which also renders and stores campaign messages, so a retry sends the same text). Each
message then goes to the provider on its own; the outcomes of a batch are written together
when the batch is done (``outcomes``), except an email's, which is written as soon as it is
known. Email shares one SMTP connection for the whole task. The shared rate limit
(``throttle``) counts every message from a sender: the transactional messages of a batch
reserve their send slots in one call and go first, each bulk message takes a slot close to
now just before it goes (so a reminder is never queued behind a campaign), each message waits
for its own slot, and the throttle is told when the provider answers "too many requests" so
every lane slows down.

A claimed message is handed to the provider only while its claim is younger than a third of
``stuck_after``: since a provider call ends within a third of it too (``Settings`` enforces
that), recovery, which takes over claims older than ``stuck_after``, can never resend a
message whose call may still be running. A message whose claim grew too old while the ones
before it were sent goes back to the queue instead, its attempt not counted.

Right before a message is handed over, the send checks (opt-outs) look again (``LastLook``):
an opt-out answered while the message waited for its send slot ends it ``suppressed``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from email.message import EmailMessage
from functools import partial

from notifier.centers.service import unregistered_sender
from notifier.channels.base import Accepted, AlimtalkRequest, EmailBatch, SmsRequest
from notifier.channels.email import Attachment, build_email
from notifier.channels.failover import NO_PROVIDER
from notifier.config import BULK_QUEUE
from notifier.context import Context
from notifier.errors import UNKNOWN_OUTCOME, ProviderError
from notifier.messages.claims import Rejection, claim_many, last_look
from notifier.messages.model import Message
from notifier.messages.outcomes import IN_DOUBT, SENT, SKIPPED, Outcome, Outcomes
from notifier.messages.publisher import publish
from notifier.messages.routing import record_provider
from notifier.messages.throttle import BULK_AHEAD_SECONDS, RedisThrottle, Throttled, is_rate_limited

# Messages claimed in one transaction. A batch's claims age while its messages are sent one
# after another (about 50 ms each at the provider), so a batch must stay far shorter than a
# third of ``stuck_after``.
CLAIM_BATCH = 25
UNREGISTERED_SENDER = "unregistered_sender"
# How old the last look at the send checks may be when a message is handed to its provider.
LAST_LOOK_SECONDS = 1.0
SERVICE_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")
# What stored content that cannot make an email raises while it is built.
BUILD_ERRORS = (ValueError, TypeError, KeyError, AttributeError)

log = logging.getLogger("notifier.delivery")


def deliver(ctx: Context, message_id: str) -> Outcome:
    """Send one message at most once. Safe to call any number of times for the same id."""
    with SharedEmail(ctx) as email:
        # Every message takes a send slot; a transactional one goes ahead of bulk (``_paced``).
        outcomes = _deliver_batch(ctx, [message_id], email, ctx.throttle)
    return outcomes.get(message_id, SKIPPED)


def deliver_many(ctx: Context, message_ids: list[str]) -> int:
    """Send each message at most once; email shares a connection. Return how many were sent."""
    sent = 0
    with SharedEmail(ctx) as email:
        for start in range(0, len(message_ids), CLAIM_BATCH):
            batch = message_ids[start : start + CLAIM_BATCH]
            outcomes = _deliver_batch(ctx, batch, email, ctx.throttle)
            sent += sum(1 for outcome in outcomes.values() if outcome is SENT)
    return sent


def _deliver_batch(
    ctx: Context, message_ids: Sequence[str], email: SharedEmail, throttle: RedisThrottle | None
) -> dict[str, Outcome]:
    """Claim, send one by one, record; return the outcome of each message this caller claimed."""
    claimed = claim_many(ctx, message_ids, render=ctx.render_unrendered)
    return send_claimed(ctx, claimed, email, throttle)


def send_claimed(
    ctx: Context,
    claimed: Sequence[Message],
    email: SharedEmail,
    throttle: RedisThrottle | None,
    *,
    skip: Collection[str] = (),
) -> dict[str, Outcome]:
    """Send claimed messages one by one and record; return the outcome of each.

    ``skip`` names SMS providers not to try (one that just refused these messages).

    Whatever goes wrong on the way (the rate limiter's Redis, a bug), every claimed message
    ends with an outcome: the ones never handed to the provider go back to the queue with
    their attempt given back, and the one whose call was under way stays ``sending`` for
    recovery to ask the provider. An email's outcome is written as soon as it is known: an
    SMTP server cannot be asked afterwards, so a crash must leave at most one email unrecorded.
    """
    fresh_for = ctx.settings.stuck_after / 3
    outcomes = Outcomes(ctx)
    # An entry means an outcome is kept, or the provider may have the message.
    results: dict[str, Outcome] = {}
    requeued: list[str] = []
    try:
        looks = LastLook(ctx)
        for message, slot in _paced(claimed, throttle):
            if isinstance(slot, Throttled):
                results[message.id] = outcomes.waits_for_a_slot(message, slot.wait, slot.message)
                continue
            if throttle is not None:
                throttle.wait_until(slot)
            now = ctx.clock()
            if message.claimed_at is None or now - message.claimed_at >= fresh_for:
                results[message.id] = outcomes.not_sent(message)
                continue
            refusal = looks.refusal(message, [m for m in claimed if m.id not in results], now)
            if refusal is not None:
                results[message.id] = outcomes.stopped(message, refusal.status, refusal.detail)
                continue
            results[message.id] = IN_DOUBT  # from here on the provider may get it
            results[message.id] = _send(ctx, message, email, outcomes, throttle, skip)
            if message.channel == "email":
                requeued += outcomes.record()
    finally:
        for message in claimed:
            if message.id not in results:
                results[message.id] = outcomes.not_sent(message)
        requeued += outcomes.record()
        if requeued:
            publish_again(ctx, claimed, set(requeued))
    tell_batch_sent(ctx, claimed)
    return results


def tell_batch_sent(ctx: Context, claimed: Sequence[Message]) -> None:
    """Tell the batch-sent hooks which campaigns a batch belonged to."""
    campaign_ids = {message.campaign_id for message in claimed if message.campaign_id is not None}
    for hook in ctx.batch_sent_hooks if campaign_ids else ():
        try:  # the last batch of a campaign finishes it now, not at the next tick
            hook(ctx, campaign_ids)
        except Exception:  # the scheduler's tick finishes it; the task's other batches go on
            log.exception("could not finish the campaign", extra={"campaigns": sorted(campaign_ids)})


class LastLook:
    """The send checks (``ctx.send_checks``: opt-outs) run again right before the provider calls.

    A message may wait seconds for its send slot after its claim; an opt-out answered in that
    time must still stop it. One look covers the batch's messages not sent yet; a message is
    handed over only while the look that cleared it is younger than ``LAST_LOOK_SECONDS``, so
    what remains is the time between one indexed query and the start of a provider call.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.looked_at = float("-inf")
        self.cleared: set[str] = set()
        self.refused: dict[str, Rejection] = {}

    def refusal(self, message: Message, upcoming: Sequence[Message], now: datetime) -> Rejection | None:
        """Why ``message`` may not be handed over ``now`` (None: it may); ``upcoming`` share the look."""
        moment = time.monotonic()
        if message.id not in self.cleared or moment - self.looked_at > LAST_LOOK_SECONDS:
            due = [message, *(later for later in upcoming if later.id != message.id)]
            self.refused.update(last_look(self.ctx, due, now))
            self.cleared = {later.id for later in due}
            self.looked_at = moment  # before the query: its answer is at least this fresh
        return self.refused.get(message.id)


def _send(
    ctx: Context,
    message: Message,
    email: SharedEmail,
    outcomes: Outcomes,
    throttle: RedisThrottle | None,
    skip: Collection[str] = (),
) -> Outcome:
    """Hand one claimed message to its provider and keep the outcome."""
    try:
        if message.channel == "sms":
            accepted = send_sms(ctx, message, skip)
        elif message.channel == "kakao":
            accepted = send_alimtalk(ctx, message)
        else:
            accepted = email.send(message.id, build_or_raise(ctx, message))
    except ProviderError as error:
        if error.code == NO_PROVIDER:  # waiting for a provider back in rotation uses no attempt
            wait = ctx.settings.breaker.cooldown_seconds / 2
            return outcomes.waits_for_a_slot(message, wait, error.message)
        outcome = outcomes.failed(message, error)
        if error.code in ("network", UNKNOWN_OUTCOME):
            email.reconnect()  # the connection is gone; open a new one for the rest
        if throttle is not None and is_rate_limited(error):
            throttle.rate_limited(message)
        return outcome
    outcomes.accepted(message, accepted)
    return SENT


def publish_again(ctx: Context, claimed: Sequence[Message], requeued: set[str]) -> None:
    """Publish the messages that went back to the queue, on their lanes."""
    by_lane: dict[str, list[str]] = {}
    for message in claimed:
        if message.id in requeued:
            by_lane.setdefault(message.lane, []).append(message.id)
    for lane, ids in by_lane.items():
        publish(ctx, lane, ids)


def _paced(
    claimed: Sequence[Message], throttle: RedisThrottle | None
) -> Iterator[tuple[Message, float | Throttled]]:
    """The claimed messages in the order they go, each with its send slot (or ``Throttled``).

    Transactional messages reserve their slots together and go first. Bulk messages book only
    slots close to now (within ``BULK_AHEAD_SECONDS``): the batch's first ones together, in one
    Redis call, the others one by one just before they go (``RedisThrottle.take_spare``), so a
    reminder never queues behind the slots of a campaign from the same sender.
    """
    if throttle is None:
        yield from ((message, 0.0) for message in claimed)
        return
    urgent = [message for message in claimed if message.lane != BULK_QUEUE]
    yield from sorted(zip(urgent, throttle.reserve(urgent), strict=True), key=_slot_order)
    bulk = [message for message in claimed if message.lane == BULK_QUEUE]
    if not bulk:
        return
    # One Redis call books the slots that lie close to now; only the rest wait for a spare one.
    slots = throttle.reserve(bulk, ahead=BULK_AHEAD_SECONDS)
    for message, slot in zip(bulk, slots, strict=True):
        yield message, throttle.take_spare(message) if isinstance(slot, Throttled) else slot


def _slot_order(pair: tuple[Message, float | Throttled]) -> float:
    """Send in the order of the reserved slots (messages without a slot first: nothing to wait for)."""
    slot = pair[1]
    return float("-inf") if isinstance(slot, Throttled) else slot


def status_callback_url(ctx: Context, message_id: str) -> str:
    """Return the URL Twilio reports the message's delivery status to."""
    return f"{ctx.settings.public_url}/webhooks/twilio/status?message_id={message_id}"


def sms_request(ctx: Context, message: Message) -> SmsRequest:
    """The request an SMS provider gets for ``message``."""
    return SmsRequest(
        message_id=message.id,
        to=message.to_phone or "",
        sender=message.sender,
        body=message.body or "",
        status_callback=None if ctx.sms_to_outbox else status_callback_url(ctx, message.id),
    )


def send_sms(ctx: Context, message: Message, skip: Collection[str] = ()) -> Accepted:
    """Hand an SMS to the first of its centre's providers in rotation that takes it.

    A sender number not registered with the centre's first provider fails the message before
    any provider call (a gateway would refuse it, and the law too); a later provider of the
    order it is not registered with is passed over.
    """
    return ctx.sms.send(
        sms_request(ctx, message),
        (message.center or {}).get("code"),
        recorded=message.provider,
        switch=partial(record_provider, ctx, message),
        skip=skip,
        refuse=partial(_unregistered, ctx, message),
    )


def _unregistered(ctx: Context, message: Message, provider: str) -> ProviderError | None:
    """Why ``provider`` may not send ``message`` from its sender number (None: it may)."""
    refusal = unregistered_sender(ctx, (message.center or {}).get("code"), provider, message.sender)
    return None if refusal is None else ProviderError(False, UNREGISTERED_SENDER, refusal, provider)


def send_alimtalk(ctx: Context, message: Message) -> Accepted:
    """Hand an AlimTalk to SOLAPI, its SMS/LMS fallback from the centre's registered number."""
    sender = ctx.alimtalk
    content = message.alimtalk
    if sender is None or not content:
        reason = "알림톡을 보낼 수 없습니다: SOLAPI가 설정되어 있지 않거나 알림톡 내용이 없습니다."
        raise ProviderError(False, "alimtalk_unavailable", reason, "solapi")
    refusal = unregistered_sender(ctx, (message.center or {}).get("code"), sender.name, message.sender)
    if refusal is not None:  # the fallback would go from this number: SOLAPI refuses it, and the law too
        raise ProviderError(False, UNREGISTERED_SENDER, refusal, sender.name)
    request = AlimtalkRequest(
        message_id=message.id,
        to=message.to_phone or "",
        sender=message.sender,
        body=message.body or "",
        pf_id=str(content["pf_id"]),
        template_id=str(content["template_id"]),
        variables={str(k): str(v) for k, v in content["variables"].items()},
        buttons=tuple({str(k): str(v) for k, v in b.items()} for b in content.get("buttons") or ()),
        fallback_text=message.fallback_text or "",
    )
    return sender.send_alimtalk(request)


def email_for(ctx: Context, message: Message) -> EmailMessage:
    """Build the email a message stands for."""
    if message.to_email is None:
        raise ValueError("the message has no email address")
    center = message.center or {}
    return build_email(
        message_id=message.id,
        sender=message.sender,
        sender_name=center.get("name", ""),
        to=message.to_email,
        to_name=message.to_name,
        subject=message.subject or "",
        text=message.body or "",
        html=message.html,
        now=ctx.clock(),
        reply_to=center.get("reply_to"),
        headers=service_headers(message.data),
        attachments=[
            Attachment(a["filename"], a["content_type"], a["data"].encode())
            for a in message.attachments or ()
        ],
    )


def build_or_raise(ctx: Context, message: Message) -> EmailMessage:
    """Build the email, or fail the message for good if its stored content cannot make one."""
    try:
        return email_for(ctx, message)
    except BUILD_ERRORS as exc:
        raise ProviderError(False, "build_error", f"{type(exc).__name__}: {exc}", "email") from exc


def service_headers(data: Mapping[str, object] | None) -> dict[str, str]:
    """Return the headers the service itself set on a message (never a client's): the unsubscribe pair."""
    given = (data or {}).get("_headers") or {}
    return {name: str(given[name]) for name in SERVICE_HEADERS if isinstance(given, dict) and name in given}


class SharedEmail:
    """One SMTP connection for a whole task, opened on first use, reopened after a network error."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._stack = ExitStack()
        self._batch: EmailBatch | None = None

    def send(self, message_id: str, email: EmailMessage) -> Accepted:
        """Send one email on the task's connection, opening it first if need be."""
        if self._batch is None:
            self._batch = self._stack.enter_context(self.ctx.email.batch())
        return self._batch.send(message_id, email)

    def reconnect(self) -> None:
        """Close the connection; the next send opens a new one."""
        self._stack.close()
        self._batch = None

    def __enter__(self) -> SharedEmail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.reconnect()
