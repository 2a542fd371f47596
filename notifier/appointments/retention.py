"""Retention: an appointment's person can no longer be named or reached through it once it is
long past.

A booking's name, phone and email are there to confirm and remind, and to answer a question
about it for some weeks (개인정보 보호법 제21조: destroyed once the purpose is met). So
``NOTIFIER_RETENTION_DAYS`` (default 30, as for messages) after an appointment's start, the
scheduler blanks them, as an erasure request does (``repository.erase_person``): the
appointment stays, with its times, centre, kind, status, attendance and outcome (the centre's
record and the attendance reports). Its short link stays too (it names nobody), so an old SMS
still leads to the "link expired" page with the centre's phone. A booking system that changes the
appointment later gives the contacts again, and they are kept until the next pass finds them
old.

It runs as a scheduler tick hook, bounded like the messages' retention: ``BATCHES_PER_TICK``
batches of ``BATCH`` appointments, each its own transaction; a pass that found less than a
full batch waits ``PASS_EVERY_SECONDS``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from notifier.appointments import repository
from notifier.context import Context
from notifier.storage.passes import bounded_pass

log = logging.getLogger("notifier.retention")

BATCH = 500
BATCHES_PER_TICK = 4
PASS_EVERY_SECONDS = 600.0
_ROUND = "appointment_retention"


def blank_old_contacts(ctx: Context) -> dict[str, int]:
    """The tick hook: blank the contacts of a bounded number of appointments past the retention."""
    now = ctx.clock()
    cutoff = now - timedelta(days=ctx.settings.retention_days)

    def step() -> int:
        with ctx.engine.begin() as conn:
            return len(repository.blank_contacts_before(conn, cutoff, BATCH, now))

    ran = bounded_pass(
        ctx, _ROUND, step, batch=BATCH, batches=BATCHES_PER_TICK, rest_seconds=PASS_EVERY_SECONDS
    )
    if ran is None or not ran[0]:
        return {}
    blanked, more = ran
    log.info(
        "retention: blanked the contacts of old appointments",
        extra={"appointments": blanked, "more": more},
    )
    return {"appointment_contacts_blanked": blanked}
