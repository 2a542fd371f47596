"""Sending many messages in one task: claimed together, sent one by one, recorded together.

A task's ids are claimed in batches of ``CLAIM_BATCH`` (``services.claims``: one transaction
per batch, which also renders and stores campaign messages, so a retry sends the same text).
Each message then goes to the provider on its own; the outcomes of a batch are written
together when the batch is done (``services.outcomes``). Email shares one SMTP connection for
the whole task. The optional ``ctx.extras["throttle"]`` (see ``services.rate_limit``)
reserves a send slot for every message of a batch in one call, each message waits for its own
slot, and the throttle is told when the provider answers "too many requests" so the whole
lane slows down.

A claimed message is handed to the provider only while its claim is younger than a third of
``stuck_after``: since a provider call ends within a third of it too (``Settings`` enforces
that), recovery, which takes over claims older than ``stuck_after``, can never resend a
message whose call may still be running. A message whose claim grew too old while the ones
before it were sent goes back to the queue instead, its attempt not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import Any

from notifier.channels.base import Accepted, EmailBatch
from notifier.context import Context
from notifier.errors import UNKNOWN_OUTCOME, ProviderError
from notifier.messages.claims import claim_many
from notifier.messages.outcomes import Outcomes
from notifier.messages.publisher import publish
from notifier.messages.sending import build_or_fail, send_sms
from notifier.messages.throttle import Throttled, is_rate_limited

# Messages claimed in one transaction. A batch's claims age while its messages are sent one
# after another (about 50 ms each at the provider), so a batch must stay far shorter than a
# third of ``stuck_after``.
CLAIM_BATCH = 25

log = logging.getLogger("notifier.delivery")


def deliver_many(ctx: Context, message_ids: list[str]) -> int:
    """Send each message at most once; email shares a connection. Returns how many were sent."""
    sent = 0
    with SharedEmail(ctx) as email:
        for start in range(0, len(message_ids), CLAIM_BATCH):
            claimed = claim_many(ctx, message_ids[start : start + CLAIM_BATCH], render=ctx.render_unrendered)
            sent += _send_claimed(ctx, claimed, email)
    return sent


def _send_claimed(ctx: Context, rows: Sequence[Mapping[str, Any]], email: SharedEmail) -> int:
    """Send claimed messages one by one, then record what happened to them all at once.

    Whatever goes wrong on the way (the rate limiter's Redis, a bug), every claimed message
    ends with an outcome: the ones never handed to the provider go back to the queue with
    their attempt given back, and the one whose call was under way stays ``sending`` for
    recovery to ask the provider. An email's outcome is written as soon as it is sent: an SMTP
    server cannot be asked afterwards, so a crash must leave at most one email unrecorded.
    """
    throttle = ctx.throttle
    fresh_for = ctx.settings.stuck_after / 3
    outcomes = Outcomes(ctx)
    handled: set[str] = set()  # an outcome is kept, or the provider may have the message
    requeued: list[str] = []
    sent = 0
    try:
        slots: list[float | Throttled] = throttle.reserve(rows) if throttle is not None else [0.0] * len(rows)
        for row, slot in sorted(zip(rows, slots, strict=True), key=_slot_order):
            if isinstance(slot, Throttled):
                outcomes.waits_for_a_slot(row, slot.wait, slot.message)
                handled.add(row["id"])
                continue
            if throttle is not None:
                throttle.wait_until(slot)
            if ctx.clock() - row["claimed_at"] >= fresh_for:
                outcomes.not_sent(row)
                handled.add(row["id"])
                continue
            handled.add(row["id"])
            try:
                if row["channel"] == "sms":
                    accepted = send_sms(ctx, row)
                else:
                    message = build_or_fail(ctx, row)
                    if message is None:
                        continue
                    accepted = email.send(row["id"], message)
            except ProviderError as error:
                outcomes.failed(row, error)
                if error.code in ("network", UNKNOWN_OUTCOME):
                    email.reconnect()  # the connection is gone; open a new one for the rest
                if throttle is not None and is_rate_limited(error):
                    throttle.rate_limited(row)
                continue
            outcomes.accepted(row, accepted)
            sent += 1
            if row["channel"] == "email":
                requeued += outcomes.record()
    finally:
        for row in rows:
            if row["id"] not in handled:
                outcomes.not_sent(row)
        requeued += outcomes.record()
        for lane in {row["lane"] for row in rows if row["id"] in requeued}:
            publish(ctx, lane, [row["id"] for row in rows if row["id"] in requeued and row["lane"] == lane])
    campaign_ids = {row["campaign_id"] for row in rows if row["campaign_id"] is not None}
    for hook in ctx.batch_sent_hooks if campaign_ids else ():
        try:  # the last batch of a campaign finishes it now, not at the next tick
            hook(ctx, campaign_ids)
        except Exception:  # the scheduler's tick finishes it; the task's other batches go on
            log.exception("could not finish the campaign", extra={"campaigns": sorted(campaign_ids)})
    return sent


def _slot_order(pair: tuple[Mapping[str, Any], float | Throttled]) -> float:
    """Send in the order of the reserved slots (messages without a slot first: nothing to wait for)."""
    slot = pair[1]
    return float("-inf") if isinstance(slot, Throttled) else slot


class SharedEmail:
    """One SMTP connection for a whole task, opened on first use, reopened after a network error."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._stack = ExitStack()
        self._batch: EmailBatch | None = None

    def send(self, message_id: str, message: Any) -> Accepted:
        if self._batch is None:
            self._batch = self._stack.enter_context(self.ctx.email.batch())
        return self._batch.send(message_id, message)

    def reconnect(self) -> None:
        self._stack.close()
        self._batch = None

    def __enter__(self) -> SharedEmail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.reconnect()
