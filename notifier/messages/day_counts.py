"""The home page's counts per day, kept for days that are over (stored counters).

Counting 14 days of messages on every view reads hundreds of thousands of rows at a million
messages. A day that is over hardly changes: its counts are stored per centre and channel in
``message_day_counts`` the first time a page needs them, and read from there afterwards. Only
today is counted live (a range over ``ix_messages_center_created`` / ``ix_messages_created``).

A message created on a day may still change status after that day (a delivery receipt, a retry,
a night-held advertising SMS): a stored day is counted again when the page needs it and its
counts were computed less than ``SETTLE`` after the day ended and more than ``REFRESH`` ago. So
the two days before today are at most ``REFRESH`` old, and older days are exact and frozen.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from notifier.messages.dashboard import CHANNELS, COUNTED, DayCounts, add_status, local_midnights
from notifier.messages.tables import message_day_counts, messages

SETTLE = timedelta(days=2)
REFRESH = timedelta(minutes=5)
NO_CENTER = ""  # messages to no registered centre (seen by the ministry only)
KEYS = ("sent", "delivered", "failed", "suppressed")


def _tally(rows: Collection[tuple[str | None, str, str, int]]) -> dict[tuple[str, str], dict[str, int]]:
    """(centre, channel) -> counts, from (centre, channel, status, n) rows."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    for center, channel, status, n in rows:
        add_status(found.setdefault((center or NO_CENTER, channel), dict.fromkeys(KEYS, 0)), status, n)
    return found


def _count(
    conn: Connection, start: datetime, end: datetime, centers: Collection[str] | None
) -> dict[tuple[str, str], dict[str, int]]:
    query = select(messages.c.center_code, messages.c.channel, messages.c.status, func.count()).where(
        messages.c.created_at >= start, messages.c.created_at < end, messages.c.status.in_(COUNTED)
    )
    if centers is not None:
        query = query.where(messages.c.center_code.in_(sorted(centers)))
    query = query.group_by(messages.c.center_code, messages.c.channel, messages.c.status)
    return _tally([tuple(row) for row in conn.execute(query)])


def _store_day(conn: Connection, start: datetime, end: datetime, now: datetime) -> None:
    """Count one closed day for every centre and store it (replacing what was stored)."""
    counts = _count(conn, start, end, None)
    day = start.date()
    try:
        with conn.begin_nested():
            conn.execute(delete(message_day_counts).where(message_day_counts.c.day == day))
            if counts:
                conn.execute(
                    message_day_counts.insert(),
                    [
                        {"center_code": center, "day": day, "channel": channel, **n, "computed_at": now}
                        for (center, channel), n in counts.items()
                    ],
                )
    except IntegrityError:  # another page stored the same day at the same moment: theirs stands
        return


def _fresh(computed_at: datetime, end: datetime, now: datetime) -> bool:
    return computed_at >= end + SETTLE or now - computed_at < REFRESH


def daily_counts(
    engine: Engine, centers: Collection[str] | None, now: datetime, zone: ZoneInfo
) -> list[DayCounts]:
    """Per local day (oldest first, today last) and channel: sent, delivered, failed, suppressed.

    Closed days missing or stale in ``message_day_counts`` are counted and stored first, in a
    transaction of their own.
    """
    with engine.begin() as conn:
        _store_stale_days(conn, now, zone)
    with engine.connect() as conn:
        return _read(conn, centers, now, zone)


def _store_stale_days(conn: Connection, now: datetime, zone: ZoneInfo) -> None:
    starts = local_midnights(now, zone)
    ends = [*starts[1:], starts[-1] + timedelta(days=1)]
    closed = list(zip(starts[:-1], ends[:-1], strict=True))
    days_of = {start.date(): start for start, _ in closed}
    stamps = conn.execute(
        select(message_day_counts.c.day, func.min(message_day_counts.c.computed_at))
        .where(message_day_counts.c.day.in_(list(days_of)))
        .group_by(message_day_counts.c.day)
    ).all()
    computed = {day: at for day, at in stamps}
    for start, end in closed:
        at = computed.get(start.date())
        if at is None or not _fresh(at, end, now):
            _store_day(conn, start, end, now)


def _read(
    conn: Connection, centers: Collection[str] | None, now: datetime, zone: ZoneInfo
) -> list[DayCounts]:
    starts = local_midnights(now, zone)
    ends = [*starts[1:], starts[-1] + timedelta(days=1)]
    days_of = [start.date() for start in starts[:-1]]
    where = [message_day_counts.c.day.in_(days_of)]
    if centers is not None:
        where.append(message_day_counts.c.center_code.in_(sorted(centers)))
    days = [DayCounts(start) for start in starts]
    index = {start.date(): i for i, start in enumerate(starts)}
    for row in conn.execute(select(message_day_counts).where(and_(*where))).mappings():
        if row["channel"] in CHANNELS:
            target = days[index[row["day"]]].by_channel[row["channel"]]
            for key in KEYS:
                target[key] += row[key]
    for (_, channel), n in _count(conn, starts[-1], ends[-1], centers).items():
        if channel in CHANNELS:
            for key in KEYS:
                days[-1].by_channel[channel][key] += n[key]
    return days
