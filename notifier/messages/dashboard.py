"""What the console's home page shows about messages: counts per day and channel, reminders
due, failures by reason.

Every query is a range over an index (``ix_messages_center_created`` or ``ix_messages_created``,
``ix_messages_status_send_at``), bounded to the last 14 days or the next 24 hours: never a count
over the whole table. ``centers`` None means every centre (the ministry).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, case, func, select, true

from notifier.domain.message_status import Status
from notifier.domain.phones import mask_email, mask_personal_data, mask_phone
from notifier.messages.tables import messages

DAYS = 14
CHANNELS = ("sms", "email")
# What the home page counts, from a message's status: accepted by the provider (and maybe
# delivered since), delivered, failed, suppressed (an opt-out stopped it).
SENT = (Status.SENT.value, Status.DELIVERED.value)
COUNTED = (*SENT, Status.FAILED.value, Status.SUPPRESSED.value)
REMINDERS_SHOWN = 20


@dataclass
class DayCounts:
    day: datetime  # local midnight
    by_channel: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            c: {"sent": 0, "delivered": 0, "failed": 0, "suppressed": 0} for c in CHANNELS
        }
    )

    def rate(self, channel: str) -> float | None:
        """Share of attempted messages the provider took (email has no delivery receipts)."""
        counts = self.by_channel[channel]
        attempted = counts["sent"] + counts["failed"]
        return counts["sent"] / attempted if attempted else None


@dataclass(frozen=True)
class DueReminder:
    id: str
    send_at: datetime
    channel: str
    to: str  # masked


@dataclass(frozen=True)
class FailureGroup:
    code: str
    reason: str
    count: int


def _in_centers(centers: Collection[str] | None) -> ColumnElement[bool]:
    return true() if centers is None else messages.c.center_code.in_(sorted(centers))


def local_midnights(now: datetime, zone: ZoneInfo, days: int = DAYS) -> list[datetime]:
    """The start of each of the last ``days`` local days, oldest first (today last)."""
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


def daily_counts(
    conn: Connection, centers: Collection[str] | None, now: datetime, zone: ZoneInfo
) -> list[DayCounts]:
    """Per local day (oldest first, today last) and channel: sent, delivered, failed, suppressed."""
    starts = local_midnights(now, zone)
    bucket = case(
        *((messages.c.created_at >= start, index) for index, start in reversed(list(enumerate(starts))))
    )
    query = (
        select(bucket.label("day"), messages.c.channel, messages.c.status, func.count())
        .where(
            _in_centers(centers),
            messages.c.created_at >= starts[0],
            messages.c.status.in_(COUNTED),
        )
        .group_by(bucket, messages.c.channel, messages.c.status)
    )
    days = [DayCounts(start) for start in starts]
    for index, channel, status, count in conn.execute(query):
        if index is None or channel not in CHANNELS:
            continue
        add_status(days[int(index)].by_channel[channel], status, count)
    return days


def add_status(counts: dict[str, int], status: str, n: int) -> None:
    """Count ``n`` messages of ``status`` into sent / delivered / failed / suppressed.

    A delivered message was sent too, so it counts in both.
    """
    if status in SENT:
        counts["sent"] += n
    if status == Status.DELIVERED.value:
        counts["delivered"] += n
    elif status == Status.FAILED.value:
        counts["failed"] += n
    elif status == Status.SUPPRESSED.value:
        counts["suppressed"] += n


def reminders_due(
    conn: Connection, centers: Collection[str] | None, now: datetime
) -> tuple[int, list[DueReminder]]:
    """Appointment messages waiting to go out in the next 24 hours: how many, and the first ones."""
    where = (
        messages.c.status == Status.SCHEDULED.value,
        messages.c.send_at >= now,
        messages.c.send_at < now + timedelta(hours=24),
        messages.c.appointment_id.is_not(None),
        _in_centers(centers),
    )
    total = conn.execute(select(func.count()).where(*where)).scalar_one()
    rows = conn.execute(
        select(
            messages.c.id, messages.c.send_at, messages.c.channel, messages.c.to_phone, messages.c.to_email
        )
        .where(*where)
        .order_by(messages.c.send_at)
        .limit(REMINDERS_SHOWN)
    )
    shown = [
        DueReminder(
            r.id, r.send_at, r.channel, mask_phone(r.to_phone) if r.to_phone else mask_email(r.to_email or "")
        )
        for r in rows
    ]
    return int(total), shown


def failures_by_reason(
    conn: Connection, centers: Collection[str] | None, now: datetime, limit: int = 10
) -> list[FailureGroup]:
    """Failed messages of the last 14 days, grouped by error code, largest group first."""
    count = func.count().label("count")
    query = (
        select(messages.c.error_code, func.max(messages.c.error_reason), count)
        .where(
            _in_centers(centers),
            messages.c.created_at >= now - timedelta(days=DAYS),
            messages.c.status == Status.FAILED.value,
        )
        .group_by(messages.c.error_code)
        .order_by(count.desc())
        .limit(limit)
    )
    return [
        FailureGroup(code or "unknown", mask_personal_data(reason or ""), int(n))
        for code, reason, n in conn.execute(query)
    ]
