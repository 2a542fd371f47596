"""Sending many messages in one task: one SMTP connection for the whole chunk.

Campaign messages arrive unrendered (``body`` is NULL): each is rendered and stored right after
its claim, so a retry sends the same content. The optional ``ctx.extras["throttle"]`` (see
``services.rate_limit``) waits for a send slot before each provider call, and is told when the
provider answers "too many requests" so the whole lane slows down.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from notifier.bootstrap import Context
from notifier.errors import UNKNOWN_OUTCOME, ProviderError
from notifier.services.campaign_render import render_claimed
from notifier.services.messages import build_or_fail, claim, record_accepted, record_failure, send_sms
from notifier.services.rate_limit import Throttled, is_rate_limited, retry_when_a_slot_is_free


def deliver_many(ctx: Context, message_ids: list[str]) -> int:
    """Send each message at most once; email shares a connection. Returns how many were sent."""
    sent = 0
    batch: Any = None
    with ExitStack() as stack:
        for message_id in message_ids:
            throttle = ctx.extras.get("throttle")
            row = claim(ctx, message_id)
            if row is not None and row["body"] is None:
                row = render_claimed(ctx, row)
            if row is None:
                continue
            try:
                if throttle is not None:
                    throttle(row)
            except Throttled as wait:
                retry_when_a_slot_is_free(ctx, row, wait)
                continue
            try:
                if row["channel"] == "sms":
                    accepted = send_sms(ctx, row)
                else:
                    email = build_or_fail(ctx, row)
                    if email is None:
                        continue
                    if batch is None:
                        batch = stack.enter_context(ctx.email.batch())
                    accepted = batch.send(row["id"], email)
            except ProviderError as error:
                if throttle is not None and is_rate_limited(error):
                    throttle.rate_limited(row)
                record_failure(ctx, row, error)
                if error.code in ("network", UNKNOWN_OUTCOME) and batch is not None:
                    stack.close()  # the connection is gone; open a new one for the rest
                    batch = None
                continue
            record_accepted(ctx, row["id"], accepted, claimed_at=row["claimed_at"])
            sent += 1
    return sent
