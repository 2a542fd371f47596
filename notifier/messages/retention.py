"""Retention: the content and addresses of finished messages are scrubbed after a while.

A message's body and address are needed to send it, to answer a question about it for some
weeks, and no longer (개인정보 보호법 제21조; GOV.UK Notify keeps them 7 days). So after
``NOTIFIER_RETENTION_DAYS`` (default 30) from its send time, a finished message keeps its
status, times, template, counts and history, and loses its addresses, name, subject, body,
template data and attachments (and the sandbox outbox its copy). Stored answers to idempotent
requests, which repeat the address, are deleted after the same time: a retry a month later is
a new request. The lists of campaigns that ended that long ago are emptied by the campaigns
feature's own tick hook (``campaigns.fanout.scrub_ended_lists``).

It runs as a scheduler tick hook, bounded per tick (``BATCHES_PER_TICK`` batches of
``BATCH`` messages, each its own transaction); a pass that found less than a full batch waits
``PASS_EVERY_SECONDS`` before the next one, so a quiet system does not scan on every tick.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.messages import repository
from notifier.messages.tables import idempotency_keys, messages
from notifier.storage.passes import bounded_pass

log = logging.getLogger("notifier.retention")

BATCH = 500
BATCHES_PER_TICK = 4
PASS_EVERY_SECONDS = 600.0
# Finished, or as good as: ``sent`` waits for a delivery report that a month later will not come.
FINISHED = tuple(s.value for s in Status if s is Status.SENT or s.is_final)
_ROUND = "retention"


def scrub_old_messages(ctx: Context) -> dict[str, int]:
    """The tick hook: scrub a bounded number of finished messages older than the retention."""
    cutoff = ctx.clock() - timedelta(days=ctx.settings.retention_days)
    ran = bounded_pass(
        ctx,
        _ROUND,
        lambda: scrub_batch(ctx, cutoff),
        batch=BATCH,
        batches=BATCHES_PER_TICK,
        rest_seconds=PASS_EVERY_SECONDS,
    )
    if ran is None:
        return {}
    scrubbed, more = ran
    with ctx.engine.begin() as conn:
        answers = conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
        ).rowcount
    if scrubbed or answers:
        log.info(
            "retention: scrubbed old messages",
            extra={"scrubbed": scrubbed, "idempotency_answers_deleted": answers, "more": more},
        )
    counts = {"messages_scrubbed": scrubbed, "idempotency_answers_deleted": answers}
    return {k: v for k, v in counts.items() if v}


def scrub_batch(ctx: Context, cutoff_send_at: datetime) -> int:
    """Scrub up to ``BATCH`` finished messages sent before the cutoff; return how many."""
    from notifier.channels.outbox import outbox

    now = ctx.clock()
    with ctx.engine.begin() as conn:
        ids = list(
            conn.execute(
                select(messages.c.id)
                .where(
                    messages.c.status.in_(FINISHED),
                    messages.c.send_at < cutoff_send_at,
                    or_(messages.c.to_phone.is_not(None), messages.c.to_email.is_not(None)),
                )
                .order_by(messages.c.send_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        if not ids:
            return 0
        repository.scrub_personal_data(conn, ids, now)
        conn.execute(delete(outbox).where(outbox.c.message_id.in_(ids)))
    return len(ids)
