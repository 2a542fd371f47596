"""Turn a started campaign into messages, hold advertising SMS at night, finish campaigns.

The fan-out reads ``campaign_recipients`` in batches of ``FANOUT_BATCH`` and inserts one
unrendered message per recipient on the bulk lane (workers render it as they claim it).
At most ``FANOUT_WINDOW`` messages of a campaign wait in the queue at a time.
It is idempotent: each batch commits together with the campaign's progress (``fanout_after``)
under a row lock on the campaign, and the partial unique indexes on ``messages`` refuse a
second message to the same address, so a crash or a second scheduler can never create one
twice. It runs in the scheduler's tick (``campaign_tick``), a bounded amount of work per tick.

Every campaign message keeps the quiet hours of the campaign's centre (its registered
centre's, else ``NOTIFIER_QUIET_HOURS``): one created or claimed in them is held (``scheduled``
for their end). Advertising SMS (정보통신망법 제50조) also keep the legal night on top: never
between 21:00 and 08:00 Korea time without the recipient's separate night-time consent. Such a
message is held (``scheduled`` for 08:00, or the end of quiet hours if later), both when it is
created and, should its moment fall into the night, when a worker claims it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.engine import RowMapping

from notifier.campaigns import personal_data
from notifier.campaigns import repository as campaign_repo
from notifier.campaigns.render import ADVERTISING, template_version
from notifier.campaigns.repository import CampaignRecipient
from notifier.centers import service as centers
from notifier.config import BULK_QUEUE
from notifier.consent.advertising_consent import night_consent_holders
from notifier.context import Context
from notifier.domain.campaign_status import CampaignStatus
from notifier.domain.message_status import Status
from notifier.domain.quiet_hours import QuietHours, in_quiet_hours, next_allowed_at
from notifier.domain.templates import ANNOUNCEMENT
from notifier.messages.accept import Recipient, new_message_row
from notifier.messages.batches import insert_new
from notifier.messages.publisher import publish
from notifier.storage.passes import bounded_pass
from notifier.templates.rendering import RenderedMessage

log = logging.getLogger("notifier.retention")

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
WORKER_FANOUT_EVERY_SECONDS = 0.25
# How long a worker's look may keep fanning out batches until the window is full again.
WORKER_FANOUT_BUDGET_SECONDS = 0.5
CANCEL_BATCH = 5000
NIGHT_HOLD = "held: advertising SMS at night without night-time consent; sent at 08:00 Korea time"
QUIET_HOLD = "held: the centre's quiet hours; sent when they end"
# List rows of ended campaigns scrubbed per scheduler tick once the retention has passed.
RETENTION_BATCH = 2000
RETENTION_PASS_EVERY_SECONDS = 600.0
# A scheduler stopped for longer than this leaves older campaigns' lists as they were.
RETENTION_WINDOW = timedelta(days=30)


def night_held(conn: Connection, addresses: Iterable[tuple[str, str]], now: datetime) -> set[tuple[str, str]]:
    """The (owner, phone) pairs whose advertising SMS may not go out at ``now``: it is night in
    Korea and the person has no valid night-time consent. One query for all of them."""
    wanted = set(addresses)
    if not wanted or not in_quiet_hours(now, KOREA, NIGHT):
        return set()
    return wanted - night_consent_holders(conn, wanted, now)


def hold_claim_check(
    ctx: Context, conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, tuple[Status, str]]:
    """At claim time: move each campaign message in quiet hours to their end, and each advertising
    SMS that would go out at night to 08:00 (or later, if quiet hours last longer)."""
    until: dict[str, datetime] = {}
    verdicts: dict[str, tuple[Status, str]] = {}
    for row in rows:
        if row["campaign_id"] is None:
            continue
        zone, quiet = centers.quiet_hours_of(ctx, row["center"] or {})
        if in_quiet_hours(now, zone, quiet):
            until[row["id"]] = next_allowed_at(now, zone, quiet)
            verdicts[row["id"]] = (Status.SCHEDULED, QUIET_HOLD)
    advertising = [r for r in rows if r["category"] == ADVERTISING and r["channel"] == "sms"]
    held_addresses = night_held(conn, [(r["owner"], r["to_phone"]) for r in advertising], now)
    morning = next_allowed_at(now, KOREA, NIGHT)
    for row in advertising:
        if (row["owner"], row["to_phone"]) in held_addresses:
            until[row["id"]] = max(until.get(row["id"], morning), morning)
            verdicts[row["id"]] = (Status.SCHEDULED, NIGHT_HOLD)
    by_time: dict[datetime, list[str]] = {}
    for message_id, moment in until.items():
        by_time.setdefault(moment, []).append(message_id)
    for moment, ids in by_time.items():
        campaign_repo.hold_queued_messages(conn, ids, moment)
    return verdicts


def _message(
    ctx: Context, campaign: RowMapping, person: CampaignRecipient, now: datetime, send_at: datetime
) -> dict[str, Any]:
    version = template_version(ctx, campaign["template_key"], campaign["template_version"])
    locale = version.locale_for(person.locale) if version else person.locale
    return new_message_row(
        ctx,
        owner=campaign["owner"],
        channel=person.channel,
        recipient=Recipient(person.phone, person.email, person.name, person.locale),
        center=dict(campaign["center"]),
        rendered=RenderedMessage(person.channel, locale, ""),
        template_key=campaign["template_key"],
        template_version=campaign["template_version"],
        data={**campaign["data"], **person.data},
        now=now,
        send_at=send_at,
        purpose=ANNOUNCEMENT,
        category=campaign["category"],
        lane=BULK_QUEUE,
        body=None,
        campaign_id=campaign["id"],
    )


def fan_out_batch(ctx: Context, campaign_id: str, *, wait: bool = True) -> tuple[int, bool]:
    """Create the next batch of a running campaign's messages; returns (created, finished).

    Without ``wait``, a campaign another process is fanning out right now is left to it:
    (0, False) at once instead of waiting for its lock.
    """
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        campaign = campaign_repo.find(conn, campaign_id, lock=True, skip_locked=not wait)
        if campaign is None and not wait:
            return 0, False
        if campaign is None or campaign["status"] != CampaignStatus.RUNNING or campaign["fanned_out"]:
            return 0, True
        people = campaign_repo.next_recipients(conn, campaign_id, campaign["fanout_after"], FANOUT_BATCH)
        if not people:
            campaign_repo.record_fanout(conn, campaign_id, now, after=None, fanned_out=True)
            return 0, True
        owner = campaign["owner"]
        advertising_sms = [p for p in people if campaign["category"] == ADVERTISING and p.channel == "sms"]
        held = night_held(conn, [(owner, p.phone or "") for p in advertising_sms], now)
        zone, quiet = centers.quiet_hours_of(ctx, campaign["center"] or {})
        quiet_end = next_allowed_at(now, zone, quiet)
        morning = max(quiet_end, next_allowed_at(now, KOREA, NIGHT))
        rows: list[dict[str, Any]] = []
        details: dict[str, str | None] = {}
        for person in people:
            at_night = (owner, person.phone) in held
            row = _message(ctx, campaign, person, now, morning if at_night else quiet_end)
            rows.append(row)
            if row["status"] == Status.SCHEDULED.value:
                details[row["id"]] = NIGHT_HOLD if at_night else QUIET_HOLD
        # The partial unique indexes refuse a second message to an address of the campaign.
        created = insert_new(conn, rows, now, details)
        last = len(people) < FANOUT_BATCH  # nobody after these: the fan-out is complete
        campaign_repo.record_fanout(conn, campaign_id, now, after=people[-1].row_no, fanned_out=last)
    publish(ctx, BULK_QUEUE, [i for i, s in created if s == Status.QUEUED.value])  # tasks of BULK_CHUNK
    return len(created), last


def start_due(ctx: Context) -> int:
    """Start the scheduled campaigns whose time has come."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        started = campaign_repo.start_due(conn, now)
    return len(started)


def fan_out_running(ctx: Context, budget: float = TICK_BUDGET_SECONDS) -> int:
    """Fan out running campaigns for at most about ``budget`` seconds; returns messages created."""
    deadline = time.monotonic() + budget
    with ctx.engine.connect() as conn:
        ids = campaign_repo.ids_to_fan_out(conn)
    created = 0
    for campaign_id in ids:
        done = False
        while not done and time.monotonic() < deadline and _waiting(ctx, campaign_id) < FANOUT_WINDOW:
            count, done = fan_out_batch(ctx, campaign_id)
            created += count
    return created


def fan_out_more(ctx: Context, campaign_ids: Collection[str]) -> int:
    """The worker hook after a batch: fan out the next batch of these campaigns if their window has room.

    The scheduler fans out for about a second per tick; a provider that takes a batch in one
    call (SOLAPI's send-many) empties the window faster than that. A look fills the window
    again (batch after batch, for at most ``WORKER_FANOUT_BUDGET_SECONDS``): one batch per look
    left the queue holding one or two send-many calls' worth while most threads waited. Each
    worker process looks
    at most every ``WORKER_FANOUT_EVERY_SECONDS`` per campaign, and never again once its fan-out
    is complete; ``fan_out_batch`` locks the campaign's row, so workers and the scheduler never
    create a batch twice. A worker does not wait for that lock: while another process holds it,
    that process is filling the window, and the worker's thread goes back to sending.
    """
    memo = ctx.memo.setdefault("worker_fanout", {})
    created = 0
    for campaign_id in campaign_ids:
        moment = time.monotonic()
        if moment < memo.get(campaign_id, 0.0):
            continue
        memo[campaign_id] = moment + WORKER_FANOUT_EVERY_SECONDS
        deadline = moment + WORKER_FANOUT_BUDGET_SECONDS
        waiting = _waiting(ctx, campaign_id)
        while waiting < FANOUT_WINDOW - FANOUT_BATCH and time.monotonic() < deadline:
            count, done = fan_out_batch(ctx, campaign_id, wait=False)
            created += count
            waiting += count
            if done:  # every message exists: this process never looks again
                memo[campaign_id] = float("inf")
                break
            if not count:  # another worker or the scheduler is fanning it out: back to sending
                break
    return created


def _waiting(ctx: Context, campaign_id: str) -> int:
    """How many of the campaign's messages wait in the queue for a worker."""
    with ctx.engine.connect() as conn:
        return campaign_repo.queued_message_count(conn, campaign_id)


def cancel_pending(ctx: Context, campaign_id: str, detail: str, budget: float | None = None) -> int:
    """Cancel the campaign's messages not yet handed to a worker, in batches; returns how many."""
    deadline = time.monotonic() + budget if budget is not None else None
    total = 0
    while deadline is None or time.monotonic() < deadline:
        with ctx.engine.begin() as conn:
            moved = campaign_repo.cancel_pending_messages(
                conn, campaign_id, CANCEL_BATCH, ctx.clock(), detail
            )
        total += len(moved)
        if len(moved) < CANCEL_BATCH:
            break
    return total


def sweep_cancelled(ctx: Context, budget: float = TICK_BUDGET_SECONDS) -> int:
    """Finish cancelling recently cancelled campaigns whose cancel ran out of time."""
    now = ctx.clock()
    since = now - ctx.settings.message_validity - timedelta(hours=1)
    with ctx.engine.connect() as conn:
        pending = campaign_repo.cancelled_since_with_pending(conn, since)
    return sum(cancel_pending(ctx, i, "campaign cancelled", budget) for i in pending)


def finish_done(ctx: Context, campaign_ids: Collection[str] | None = None) -> int:
    """Mark running campaigns finished once every message has left the pending statuses.

    The scheduler asks for every running campaign on each tick; a worker asks for the campaigns
    of a batch it has just recorded, so the last batch finishes its campaign at once. One
    statement: a campaign whose fan-out is complete and which has no unfinished message. Of two
    workers recording the last batches together, the one that commits later sees both.
    """
    now = ctx.clock()
    if campaign_ids is not None and not campaign_ids:
        return 0
    with ctx.engine.begin() as conn:
        finished = campaign_repo.finish_done(conn, now, campaign_ids)
    return len(finished)


def scrub_ended_lists(ctx: Context) -> dict[str, int]:
    """The retention tick hook: empty the lists of campaigns ended ``NOTIFIER_RETENTION_DAYS`` ago.

    Bounded per tick (``RETENTION_BATCH`` rows in one transaction); progress is logged. Only
    campaigns that ended within ``RETENTION_WINDOW`` before the cutoff are looked at, so the
    lists scrubbed long ago are not scanned again; a pass that found less than a full batch
    waits ``RETENTION_PASS_EVERY_SECONDS``.
    """
    cutoff = ctx.clock() - timedelta(days=ctx.settings.retention_days)

    def step() -> int:
        with ctx.engine.begin() as conn:
            return personal_data.scrub_ended_lists(conn, cutoff - RETENTION_WINDOW, cutoff, RETENTION_BATCH)

    ran = bounded_pass(
        ctx,
        "campaign_retention",
        step,
        batch=RETENTION_BATCH,
        batches=1,
        rest_seconds=RETENTION_PASS_EVERY_SECONDS,
    )
    if ran is None or not ran[0]:
        return {}
    log.info("retention: scrubbed ended campaigns' lists", extra={"rows": ran[0]})
    return {"campaign_rows_scrubbed": ran[0]}


def campaign_tick(ctx: Context) -> dict[str, int]:
    """The scheduler hook: start due campaigns, fan out, finish; only non-zero counts."""
    counts = {
        "campaigns_started": start_due(ctx),
        "campaign_messages_created": fan_out_running(ctx),
        "campaign_messages_cancelled": sweep_cancelled(ctx),
        "campaigns_finished": finish_done(ctx),
    }
    return {k: v for k, v in counts.items() if v}
