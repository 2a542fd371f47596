"""The scheduler's tick: due messages to the queue, overdue ones expired, lost ones found.

Runs every few seconds in ``notifier scheduler``. Every step is a conditional UPDATE, so
two schedulers running at once do no harm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import and_

from notifier.channels.base import SmsRequest
from notifier.config import BULK_QUEUE, TRANSACTIONAL_QUEUE
from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.messages import repository as repo
from notifier.messages.model import Message
from notifier.messages.outcomes import storable_provider_id
from notifier.messages.publisher import publish
from notifier.messages.tables import messages

log = logging.getLogger("notifier.scheduler")
BATCH = 1000
LANES = (TRANSACTIONAL_QUEUE, BULK_QUEUE)


@dataclass
class TickReport:
    queued: int = 0
    expired: int = 0
    requeued: int = 0
    recovered_sent: int = 0
    recovered_requeued: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def tick(ctx: Context) -> TickReport:
    """Do one round of the scheduler's work."""
    report = TickReport()
    report.expired = expire_overdue(ctx)
    report.queued = dispatch_due(ctx)
    report.requeued = requeue_lost(ctx)
    report.recovered_sent, report.recovered_requeued = recover_stuck(ctx)
    for hook in ctx.tick_hooks:
        report.extra.update(hook(ctx))
    return report


def dispatch_due(ctx: Context) -> int:
    """Move scheduled messages whose time has come to the queue."""
    now = ctx.clock()
    total = 0
    for lane in LANES:
        while True:
            with ctx.engine.begin() as conn:
                due = and_(
                    messages.c.status == Status.SCHEDULED.value,
                    messages.c.send_at <= now,
                    messages.c.lane == lane,
                )
                ids = repo.ids_where(conn, due, BATCH)
                if not ids:
                    break
                moved = repo.transition_many(
                    conn,
                    messages.c.id.in_(ids),
                    Status.QUEUED,
                    now,
                    detail="due",
                    only_from=[Status.SCHEDULED],  # a twin scheduler may have moved some on already
                    enqueued_at=now,
                )
            publish(ctx, lane, moved)
            total += len(moved)
            if len(ids) < BATCH:
                break
    return total


def expire_overdue(ctx: Context) -> int:
    """Mark pending messages whose validity window has passed as expired, never send them late."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        overdue = and_(
            messages.c.status.in_([Status.SCHEDULED.value, Status.QUEUED.value]),
            messages.c.expires_at.is_not(None),
            messages.c.expires_at < now,
        )
        return len(repo.transition_many(conn, overdue, Status.EXPIRED, now, detail="validity window passed"))


def requeue_lost(ctx: Context) -> int:
    """Publish again the queued messages no worker has claimed for too long (a lost task)."""
    now = ctx.clock()
    cutoff = now - ctx.settings.requeue_after
    total = 0
    for lane in LANES:
        with ctx.engine.begin() as conn:
            lost = and_(
                messages.c.status == Status.QUEUED.value,
                messages.c.lane == lane,
                messages.c.enqueued_at < cutoff,
            )
            ids = repo.ids_where(conn, lost, BATCH)
            if ids:
                conn.execute(messages.update().where(messages.c.id.in_(ids)).values(enqueued_at=now))
        if ids:
            log.warning("re-queued messages no worker took", extra={"lane": lane, "count": len(ids)})
            publish(ctx, lane, ids)
            total += len(ids)
    return total


def recover_stuck(ctx: Context) -> tuple[int, int]:
    """Settle messages claimed by a worker that died: sent once, or sent again exactly once.

    For SMS the provider is asked whether it already took the message. Email cannot be asked;
    it is sent again with the same Message-ID, so mail clients show it once.
    """
    now = ctx.clock()
    cutoff = now - ctx.settings.stuck_after
    with ctx.engine.connect() as conn:
        stuck = and_(messages.c.status == Status.SENDING.value, messages.c.claimed_at < cutoff)
        found = [
            Message.from_row(row)
            for row in conn.execute(messages.select().where(stuck).limit(BATCH)).mappings()
        ]
    sent = requeued = 0
    for message in found:
        provider_id = provider = None
        if message.channel in ("sms", "kakao") and message.claimed_at is not None:  # set: compared
            request = SmsRequest(message.id, message.to_phone or "", message.sender, message.body or "")
            try:
                if message.channel == "sms":
                    # The provider recorded before the call, and only that one: never another.
                    answer = ctx.sms.find_sent_by(request, message.claimed_at, message.provider)
                    provider, provider_id = answer if answer else (None, None)
                elif ctx.alimtalk is not None:
                    provider, provider_id = (
                        ctx.alimtalk.name,
                        ctx.alimtalk.find_sent(request, message.claimed_at),
                    )
            except Exception:  # provider unreachable: try again next tick
                log.warning(
                    "could not ask the provider about a stuck message", extra={"message_id": message.id}
                )
                continue
        with ctx.engine.begin() as conn:
            if provider_id:
                moved = repo.transition(
                    conn,
                    message.id,
                    Status.SENT,
                    now,
                    only_from=[Status.SENDING],
                    extra_where=messages.c.claimed_at == message.claimed_at,
                    detail="recovered: the provider had accepted it",
                    provider_message_id=storable_provider_id(message, provider_id),
                    provider=provider,
                )
                sent += moved
            else:
                moved = repo.transition(
                    conn,
                    message.id,
                    Status.QUEUED,
                    now,
                    only_from=[Status.SENDING],
                    extra_where=messages.c.claimed_at == message.claimed_at,
                    detail="recovered: the worker died before the provider took it",
                    enqueued_at=now,
                )
                if moved:
                    requeued += 1
        if not provider_id and moved:
            publish(ctx, message.lane, [message.id])
    return sent, requeued
