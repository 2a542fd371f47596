"""The attendance report: SQL aggregates over the appointments, grouped as asked, small cells hidden.

One ``GROUP BY`` over the appointments starting in ``[from, to)``; the columns it reads are
in the index ``ix_appointments_report``, so PostgreSQL answers from the index alone. The
rates and their Wilson intervals come from ``statistics``; a cell of fewer than five
appointments shows its counts as ``<5`` and no rate (``domain.attendance.shown_count``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import BigInteger, ColumnElement, Connection, and_, case, cast, func, literal_column, select

from notifier.appointments.tables import appointments
from notifier.attendance import statistics
from notifier.context import Context
from notifier.domain.attendance import LEAD_TIME_BANDS, MIN_CELL, Outcome, shown_count
from notifier.responses import ResponseModel, Timestamp

GroupBy = Literal[
    "center", "kind", "channel", "reminder_plan", "confirmed_on_page", "lead_time", "weekday", "hour"
]
GROUP_KEYS: tuple[GroupBy, ...] = (
    "center",
    "kind",
    "channel",
    "reminder_plan",
    "confirmed_on_page",
    "lead_time",
    "weekday",
    "hour",
)
# Weekday and hour are read on the centres' clock, Asia/Seoul: UTC+9, without daylight saving
# since 1988, so a fixed offset is exact for every appointment the service can hold.
REPORT_UTC_OFFSET = 9 * 3600
DEFAULT_SPAN = timedelta(days=365)
Count = int | Literal["<5"]
COUNT_COLUMNS = ("appointments", "outcomes_known", "attended", "no_shows", "confirmed")
RATE_COLUMNS = ("no_show_rate", "no_show_rate_low", "no_show_rate_high")


class AttendanceRow(ResponseModel):
    """One group: only the keys it was grouped by are present."""

    center: str | None = None
    kind: str | None = None
    channel: str | None = None
    reminder_plan: str | None = None
    confirmed_on_page: bool | None = None
    lead_time: str | None = Field(default=None, description="days from booking to start: 0-1d, 2-7d, ...")
    weekday: int | None = Field(default=None, description="ISO weekday in Asia/Seoul: 1 Monday .. 7 Sunday")
    hour: int | None = Field(default=None, description="hour of the start in Asia/Seoul, 0-23")
    appointments: Count
    outcomes_known: Count
    attended: Count
    no_shows: Count
    confirmed: Count = Field(description="how many confirmed on their page")
    no_show_rate: float | None = Field(
        description="no-shows / outcomes known; null in a cell of fewer than 5"
    )
    no_show_rate_low: float | None = Field(description="95 % Wilson interval, lower end")
    no_show_rate_high: float | None = Field(description="95 % Wilson interval, upper end")


class AttendanceReport(ResponseModel):
    starts_from: Timestamp = Field(description="appointments starting at or after this time")
    starts_before: Timestamp = Field(description="... and before this one")
    group_by: list[GroupBy]
    rows: list[AttendanceRow]


def _local_seconds(conn: Connection) -> ColumnElement[Any]:
    """Seconds since 1970 on the Seoul clock: plain integer arithmetic, no time-zone lookup per row."""
    starts = appointments.c.starts_at
    if conn.dialect.name == "postgresql":
        epoch = cast(func.extract("epoch", starts), BigInteger)
    else:  # SQLite keeps UTC text; strftime('%s') reads it as UTC
        epoch = cast(func.strftime("%s", starts), BigInteger)
    return epoch + REPORT_UTC_OFFSET


def _weekday(conn: Connection) -> ColumnElement[Any]:
    # 1970-01-01 was a Thursday (ISO 4): day 0 is 4, day 3 is Sunday (7), day 4 Monday (1).
    return (_local_seconds(conn) // 86400 + 3) % 7 + 1


def _hour(conn: Connection) -> ColumnElement[Any]:
    return (_local_seconds(conn) // 3600) % 24


def _lead_time() -> ColumnElement[Any]:
    days = appointments.c.lead_days
    whens = [(days < after, label) for label, _first, after in LEAD_TIME_BANDS if after is not None]
    return case(*whens, else_=LEAD_TIME_BANDS[-1][0])


def group_expression(conn: Connection, key: GroupBy) -> ColumnElement[Any]:
    """The SQL expression a report groups by for ``key``."""
    a = appointments.c
    expressions: dict[str, ColumnElement[Any]] = {
        "center": a.center_code,
        "kind": a.kind,
        "channel": a.channels_key,
        "reminder_plan": a.reminder_plan_name,
        "confirmed_on_page": func.coalesce(a.attendance == "confirmed", literal_column("false")),
    }
    if key == "lead_time":
        return _lead_time()
    if key == "weekday":
        return _weekday(conn)
    if key == "hour":
        return _hour(conn)
    return expressions[key]


def counts_query(
    conn: Connection,
    group_by: Sequence[GroupBy],
    start: datetime,
    end: datetime,
    center: str | None = None,
    kind: str | None = None,
    channel: str | None = None,
) -> Any:
    """The GROUP BY statement: one row per group with the five counts."""
    a = appointments.c
    keys = [group_expression(conn, key).label(key) for key in group_by]
    query = select(
        *keys,
        func.count().label("appointments"),
        func.count(a.outcome).label("outcomes_known"),
        func.count(case((a.outcome == Outcome.ATTENDED.value, 1))).label("attended"),
        func.count(case((a.outcome == Outcome.NO_SHOW.value, 1))).label("no_shows"),
        func.count(case((a.attendance == "confirmed", 1))).label("confirmed"),
    )
    where = [a.starts_at >= start, a.starts_at < end]
    if center:
        where.append(a.center_code == center)
    if kind:
        where.append(a.kind == kind)
    if channel:
        where.append(a.channels_key == channel)
    query = query.where(and_(*where))
    if keys:
        query = query.group_by(*keys).order_by(*keys)
    return query


def rows_of(group_by: Sequence[GroupBy], counted: Sequence[Any]) -> list[AttendanceRow]:
    """The report rows of the counted groups, their intervals computed in one call."""
    intervals = statistics.wilson_many(
        [int(values["no_shows"]) for values in counted], [int(values["outcomes_known"]) for values in counted]
    )
    return [row_of(group_by, values, interval) for values, interval in zip(counted, intervals, strict=True)]


def row_of(group_by: Sequence[GroupBy], values: Any, interval: statistics.Interval | None) -> AttendanceRow:
    """One report row: the counts shown or hidden, the rate and its interval (hidden in a small cell)."""
    n = int(values["appointments"])
    fields: dict[str, Any] = {key: values[key] for key in group_by}
    if "confirmed_on_page" in fields:
        fields["confirmed_on_page"] = bool(fields["confirmed_on_page"])
    for column in COUNT_COLUMNS:
        fields[column] = shown_count(int(values[column]), n)
    known, no_shows = int(values["outcomes_known"]), int(values["no_shows"])
    interval = interval if n >= MIN_CELL else None
    fields["no_show_rate"] = no_shows / known if interval is not None else None
    fields["no_show_rate_low"] = interval.low if interval is not None else None
    fields["no_show_rate_high"] = interval.high if interval is not None else None
    return AttendanceRow(**fields)


def attendance_report(
    ctx: Context,
    group_by: Sequence[GroupBy],
    start: datetime | None,
    end: datetime | None,
    center: str | None = None,
    kind: str | None = None,
    channel: str | None = None,
) -> AttendanceReport:
    """The report over appointments starting in ``[start, end)`` (default: the year up to now)."""
    end = end or ctx.clock()
    start = start or end - DEFAULT_SPAN
    group_by = list(dict.fromkeys(group_by))
    with ctx.engine.connect() as conn:
        query = counts_query(conn, group_by, start, end, center, kind, channel)
        rows = rows_of(group_by, conn.execute(query).mappings().all())
    return AttendanceReport(starts_from=start, starts_before=end, group_by=group_by, rows=rows)


def as_csv(report: AttendanceReport) -> str:
    """The report as CSV: the group keys, then the same columns as the JSON rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = [*report.group_by, *COUNT_COLUMNS, *RATE_COLUMNS]
    writer.writerow(header)
    for row in report.rows:
        values = row.model_dump()
        writer.writerow(["" if values[name] is None else _cell(values[name]) for name in header])
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
