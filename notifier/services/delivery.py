"""Sending many messages in one task: one SMTP connection for the whole chunk."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from notifier.bootstrap import Context
from notifier.errors import ProviderError
from notifier.services.messages import claim, email_for, record_accepted, record_failure, send_sms


def deliver_many(ctx: Context, message_ids: list[str]) -> int:
    """Send each message at most once; email shares a connection. Returns how many were sent."""
    sent = 0
    batch: Any = None
    with ExitStack() as stack:
        for message_id in message_ids:
            throttle = ctx.extras.get("throttle")
            row = claim(ctx, message_id)
            if row is None:
                continue
            if throttle is not None:
                throttle(row)
            try:
                if row["channel"] == "sms":
                    accepted = send_sms(ctx, row)
                else:
                    if batch is None:
                        batch = stack.enter_context(ctx.email.batch())
                    accepted = batch.send(row["id"], email_for(ctx, row))
            except ProviderError as error:
                record_failure(ctx, row, error)
                if error.code == "network" and batch is not None:
                    stack.close()  # the connection is gone; open a new one for the rest
                    batch = None
                continue
            record_accepted(ctx, row["id"], accepted)
            sent += 1
    return sent
