"""Turn a started campaign into messages, hold advertising SMS at night, finish campaigns.

The fan-out reads ``campaign_recipients`` in batches of ``FANOUT_BATCH`` and inserts one
unrendered message per recipient on the bulk lane (workers render it as they claim it).
At most ``FANOUT_WINDOW`` messages of a campaign wait in the queue at a time.
It is idempotent: each batch commits together with the campaign's progress (``fanout_after``)
under a row lock on the campaign, and the partial unique indexes on ``messages`` refuse a
second message to the same address, so a crash or a second scheduler can never create one
twice. It runs in the scheduler's tick (``campaign_tick``), a bounded amount of work per tick.

Advertising SMS (정보통신망법 제50조): never between 21:00 and 08:00 Korea time without the
recipient's separate night-time consent. Such a message is held (``scheduled`` for 08:00),
both when it is created and, should its moment fall into the night, when a worker claims it.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.engine import RowMapping

from notifier.campaigns.render import ADVERTISING, template_version
from notifier.campaigns.tables import campaign_recipients, campaigns
from notifier.config import BULK_QUEUE
from notifier.consent import opt_outs as suppression
from notifier.context import Context
from notifier.domain.quiet_hours import QuietHours, in_quiet_hours, next_allowed_at
from notifier.domain.status import Status
from notifier.messages import repository as repo
from notifier.messages.accept import Recipient, new_message_row
from notifier.messages.batches import insert_new
from notifier.messages.publisher import publish
from notifier.messages.tables import messages
from notifier.templates.rendering import RenderedMessage

KOREA = ZoneInfo("Asia/Seoul")
# The legal night window for advertising SMS, not a centre's (configurable) courtesy hours.
NIGHT = QuietHours(clock_time(21, 0), clock_time(8, 0))
FANOUT_BATCH = 1000
# Messages of one campaign waiting in the queue at most. The rest waits as campaign_recipients
# rows: the queue stays short (no message waits long enough for the scheduler to think its
# task was lost and queue it again), transactional mail is never behind a million bulk tasks,
# and a cancel has little to undo.
FANOUT_WINDOW = 5000
TICK_BUDGET_SECONDS = 1.0
CANCEL_BATCH = 5000
PENDING = [Status.SCHEDULED.value, Status.QUEUED.value]
UNFINISHED = [*PENDING, Status.SENDING.value]
NIGHT_HOLD = "held: advertising SMS at night without night-time consent; sent at 08:00 Korea time"


def night_held(conn: Connection, addresses: Iterable[tuple[str, str]], now: datetime) -> set[tuple[str, str]]:
    """The (owner, phone) pairs whose advertising SMS may not go out at ``now``: it is night in
    Korea and the person has no valid night-time consent. One query for all of them."""
    wanted = set(addresses)
    if not wanted or not in_quiet_hours(now, KOREA, NIGHT):
        return set()
    return wanted - suppression.night_consent_holders(conn, wanted, now)


def night_claim_check(
    ctx: Context, conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, tuple[Status, str]]:
    """At claim time: move each advertising SMS that would go out at night back to 08:00."""
    advertising = [r for r in rows if r["category"] == ADVERTISING and r["channel"] == "sms"]
    held_addresses = night_held(conn, [(r["owner"], r["to_phone"]) for r in advertising], now)
    held = [r["id"] for r in advertising if (r["owner"], r["to_phone"]) in held_addresses]
    if not held:
        return {}
    conn.execute(
        update(messages)
        .where(messages.c.id.in_(held), messages.c.status == Status.QUEUED.value)
        .values(send_at=next_allowed_at(now, KOREA, NIGHT))
    )
    return {message_id: (Status.SCHEDULED, NIGHT_HOLD) for message_id in held}


def _message(
    ctx: Context, campaign: RowMapping, person: RowMapping, now: datetime, send_at: datetime
) -> dict[str, Any]:
    version = template_version(ctx, campaign["template_key"], campaign["template_version"])
    locale = version.locale_for(person["locale"]) if version else person["locale"]
    return new_message_row(
        ctx,
        owner=campaign["owner"],
        channel=person["channel"],
        recipient=Recipient(person["phone"], person["email"], person["name"], person["locale"]),
        center=dict(campaign["center"]),
        rendered=RenderedMessage(person["channel"], locale, ""),
        template_key=campaign["template_key"],
        template_version=campaign["template_version"],
        data={**campaign["data"], **person["data"]},
        now=now,
        send_at=send_at,
        purpose="announcement",
        category=campaign["category"],
        lane=BULK_QUEUE,
        body=None,
        campaign_id=campaign["id"],
    )


def fan_out_batch(ctx: Context, campaign_id: str) -> tuple[int, bool]:
    """Create the next batch of a running campaign's messages; returns (created, finished)."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        campaign = (
            conn.execute(select(campaigns).where(campaigns.c.id == campaign_id).with_for_update())
            .mappings()
            .first()
        )
        if campaign is None or campaign["status"] != "running" or campaign["fanned_out"]:
            return 0, True
        cr = campaign_recipients
        people = list(
            conn.execute(
                select(cr)
                .where(
                    cr.c.campaign_id == campaign_id,
                    cr.c.row_no > campaign["fanout_after"],
                    cr.c.excluded.is_(None),
                )
                .order_by(cr.c.row_no)
                .limit(FANOUT_BATCH)
            ).mappings()
        )
        if not people:
            conn.execute(
                update(campaigns).where(campaigns.c.id == campaign_id).values(fanned_out=True, updated_at=now)
            )
            return 0, True
        owner = campaign["owner"]
        advertising_sms = [p for p in people if campaign["category"] == ADVERTISING and p["channel"] == "sms"]
        held = night_held(conn, [(owner, p["phone"]) for p in advertising_sms], now)
        morning = next_allowed_at(now, KOREA, NIGHT)
        rows = [
            _message(ctx, campaign, person, now, morning if (owner, person["phone"]) in held else now)
            for person in people
        ]
        details = {row["id"]: NIGHT_HOLD for row in rows if row["status"] == Status.SCHEDULED.value}
        # The partial unique indexes refuse a second message to an address of the campaign.
        created = insert_new(conn, rows, now, details)
        last = len(people) < FANOUT_BATCH  # nobody after these: the fan-out is complete
        conn.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign_id)
            .values(fanout_after=people[-1]["row_no"], fanned_out=last, updated_at=now)
        )
    publish(ctx, BULK_QUEUE, [i for i, s in created if s == Status.QUEUED.value])  # tasks of BULK_CHUNK
    return len(created), last


def start_due(ctx: Context) -> int:
    """Start the scheduled campaigns whose time has come."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        started = conn.execute(
            update(campaigns)
            .where(campaigns.c.status == "scheduled", campaigns.c.send_at <= now)
            .values(status="running", started_at=now, updated_at=now)
            .returning(campaigns.c.id)
        ).all()
    return len(started)


def fan_out_running(ctx: Context, budget: float = TICK_BUDGET_SECONDS) -> int:
    """Fan out running campaigns for at most about ``budget`` seconds; returns messages created."""
    deadline = time.monotonic() + budget
    with ctx.engine.connect() as conn:
        ids = list(
            conn.execute(
                select(campaigns.c.id)
                .where(campaigns.c.status == "running", campaigns.c.fanned_out.is_(False))
                .order_by(campaigns.c.started_at)
            ).scalars()
        )
    created = 0
    for campaign_id in ids:
        done = False
        while not done and time.monotonic() < deadline and _waiting(ctx, campaign_id) < FANOUT_WINDOW:
            count, done = fan_out_batch(ctx, campaign_id)
            created += count
    return created


def _waiting(ctx: Context, campaign_id: str) -> int:
    """How many of the campaign's messages wait in the queue for a worker."""
    with ctx.engine.connect() as conn:
        query = select(func.count()).where(
            messages.c.campaign_id == campaign_id, messages.c.status == Status.QUEUED.value
        )
        return int(conn.execute(query).scalar_one())


def cancel_pending(ctx: Context, campaign_id: str, detail: str, budget: float | None = None) -> int:
    """Cancel the campaign's messages not yet handed to a worker, in batches; returns how many."""
    deadline = time.monotonic() + budget if budget is not None else None
    total = 0
    while deadline is None or time.monotonic() < deadline:
        with ctx.engine.begin() as conn:
            batch = (
                select(messages.c.id)
                .where(messages.c.campaign_id == campaign_id, messages.c.status.in_(PENDING))
                .limit(CANCEL_BATCH)
                .scalar_subquery()
            )
            moved = repo.transition_many(
                conn, messages.c.id.in_(batch), Status.CANCELLED, ctx.clock(), detail=detail
            )
        total += len(moved)
        if len(moved) < CANCEL_BATCH:
            break
    return total


def sweep_cancelled(ctx: Context, budget: float = TICK_BUDGET_SECONDS) -> int:
    """Finish cancelling recently cancelled campaigns whose cancel ran out of time."""
    now = ctx.clock()
    with ctx.engine.connect() as conn:
        recent = and_(
            campaigns.c.status == "cancelled",
            campaigns.c.cancelled_at > now - ctx.settings.message_validity - timedelta(hours=1),
        )
        ids = list(conn.execute(select(campaigns.c.id).where(recent)).scalars())
        pending = [
            i
            for i in ids
            if conn.execute(
                select(messages.c.id)
                .where(messages.c.campaign_id == i, messages.c.status.in_(PENDING))
                .limit(1)
            ).first()
        ]
    return sum(cancel_pending(ctx, i, "campaign cancelled", budget) for i in pending)


def finish_done(ctx: Context, campaign_ids: Collection[str] | None = None) -> int:
    """Mark running campaigns finished once every message has left the pending statuses.

    The scheduler asks for every running campaign on each tick; a worker asks for the campaigns
    of a batch it has just recorded, so the last batch finishes its campaign at once. One
    statement: a campaign whose fan-out is complete and which has no unfinished message. Of two
    workers recording the last batches together, the one that commits later sees both.
    """
    now = ctx.clock()
    unfinished = (
        select(messages.c.id)
        .where(messages.c.campaign_id == campaigns.c.id, messages.c.status.in_(UNFINISHED))
        .exists()
    )
    condition = and_(campaigns.c.status == "running", campaigns.c.fanned_out.is_(True), ~unfinished)
    if campaign_ids is not None:
        if not campaign_ids:
            return 0
        condition = and_(campaigns.c.id.in_(sorted(campaign_ids)), condition)
    with ctx.engine.begin() as conn:
        finished = conn.execute(
            update(campaigns)
            .where(condition)
            .values(status="finished", finished_at=now, updated_at=now)
            .returning(campaigns.c.id)
        ).all()
    return len(finished)


def campaign_tick(ctx: Context) -> dict[str, int]:
    """The scheduler hook: start due campaigns, fan out, finish; only non-zero counts."""
    counts = {
        "campaigns_started": start_due(ctx),
        "campaign_messages_created": fan_out_running(ctx),
        "campaign_messages_cancelled": sweep_cancelled(ctx),
        "campaigns_finished": finish_done(ctx),
    }
    return {k: v for k, v in counts.items() if v}
