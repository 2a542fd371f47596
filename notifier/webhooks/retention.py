"""Retention of the webhook delivery log: finished deliveries are deleted after a while.

A delivery's payload repeats what it reports (a message's status, an appointment's outcome,
with their ids and sometimes an address), and the log is there to see whether a receiver got
its events lately, not for ever. So ``NOTIFIER_RETENTION_DAYS`` after its last attempt, a
delivered or failed delivery is deleted; pending ones stay whatever their age. Without it the
table grows by one row per status change of every message while anyone subscribes.

A scheduler tick hook, bounded like the other retentions: ``BATCHES_PER_TICK`` statements of
``BATCH`` rows each in its own transaction; a pass that found less than a full batch waits
``PASS_EVERY_SECONDS``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from notifier.context import Context
from notifier.storage.passes import bounded_pass
from notifier.webhooks import repository

log = logging.getLogger("notifier.retention")

BATCH = 1000
BATCHES_PER_TICK = 4
PASS_EVERY_SECONDS = 600.0
_ROUND = "webhook_retention"


def forget_old_deliveries(ctx: Context) -> dict[str, int]:
    """The tick hook: delete a bounded number of finished deliveries older than the retention."""
    cutoff = ctx.clock() - timedelta(days=ctx.settings.retention_days)

    def step() -> int:
        with ctx.engine.begin() as conn:
            return repository.delete_finished_before(conn, cutoff, BATCH)

    ran = bounded_pass(
        ctx, _ROUND, step, batch=BATCH, batches=BATCHES_PER_TICK, rest_seconds=PASS_EVERY_SECONDS
    )
    if ran is None or not ran[0]:
        return {}
    deleted, more = ran
    log.info("retention: deleted old webhook deliveries", extra={"deliveries": deleted, "more": more})
    return {"webhook_deliveries_deleted": deleted}
