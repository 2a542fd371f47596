"""The attendance report page: filters, the table, the no-show chart and the CSV of the same table.

Staff see their own centres only (one at a time, as the report filters one centre); the
ministry sees every centre or one. A cell of fewer than five appointments shows ``<5`` and no
rate, exactly as the API and its CSV do (the rows come from the same use case). The filters
travel in the query string: they hold no personal data, and the page can be bookmarked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import get_args

from flask import Blueprint, Response, request

from notifier.api.context import context
from notifier.attendance import reports
from notifier.attendance.reports import GROUP_KEYS, AttendanceReport, AttendanceRow, GroupBy
from notifier.centers import service as centers_service
from notifier.console.attendance_chart import ChartRow, no_show_chart
from notifier.console.i18n import language, said, word
from notifier.console.pages import FormProblem, center_names, page
from notifier.console.session import current_staff, login_required
from notifier.schemas import AppointmentKind
from notifier.staff.accounts import StaffAccount
from notifier.staff.scope import require_center, visible_centers

bp = Blueprint("attendance", __name__)
KINDS: tuple[str, ...] = get_args(AppointmentKind)
CHANNEL_KEYS = ("sms", "email", "email+sms")
MAX_SPAN = timedelta(days=3 * 366)
DEFAULT_DAYS = 90
GROUP_LABELS: dict[str, tuple[str, str]] = {
    "center": ("센터", "Centre"),
    "kind": ("상담 종류", "Kind"),
    "channel": ("채널", "Channel"),
    "reminder_plan": ("알림 계획", "Reminder plan"),
    "confirmed_on_page": ("페이지에서 참석 확인", "Confirmed on page"),
    "lead_time": ("예약부터 상담까지 기간", "Days from booking to start"),
    "weekday": ("요일", "Weekday"),
    "hour": ("시작 시각", "Hour of the start"),
}
KIND_LABELS: dict[str, tuple[str, str]] = {
    "in_depth_counseling": ("심층 상담", "In-depth counselling"),
    "psychological_support": ("심리 지원", "Psychological support"),
    "competency_assessment": ("역량 진단", "Competency assessment"),
    "interview_resume_consulting": ("면접·이력서 컨설팅", "Interview and CV consulting"),
    "employer_consulting": ("기업 컨설팅", "Employer consulting"),
    "other": ("기타", "Other"),
}
WEEKDAYS = (
    ("월", "Mon"),
    ("화", "Tue"),
    ("수", "Wed"),
    ("목", "Thu"),
    ("금", "Fri"),
    ("토", "Sat"),
    ("일", "Sun"),
)


class Filters:
    """The report a request asks for, checked: every bad field named, or none."""

    def __init__(
        self, args: Mapping[str, str], group_by: list[str], staff: StaffAccount, today: date
    ) -> None:
        problems: list[tuple[str, str]] = []
        centers = visible_centers(staff)
        self.center: str | None = args.get("center", "").strip() or None
        if centers is not None:
            self.center = self.center or (sorted(centers)[0] if centers else None)
        if self.center is not None:
            require_center(staff, self.center)  # another centre's report: as if it did not exist
        self.kind = args.get("kind", "") or None
        if self.kind is not None and self.kind not in KINDS:
            pick = said("목록에 있는 상담 종류를 고르세요.", "Choose a kind from the list.")
            problems.append((word("appointment_kind"), pick))
        self.channel = args.get("channel", "") or None
        if self.channel is not None and self.channel not in CHANNEL_KEYS:
            pick = said("목록에 있는 채널을 고르세요.", "Choose a channel from the list.")
            problems.append((word("channel"), pick))
        self.group_by: list[GroupBy] = [key for key in GROUP_KEYS if key in group_by]
        if len(self.group_by) != len(set(group_by)):
            pick = said("목록에 있는 기준만 고를 수 있습니다.", "Choose only groupings from the list.")
            problems.append((word("group_by"), pick))
        self.date_to = _day(args.get("to", ""), word("to_date"), problems) or today
        self.date_from = _day(args.get("from", ""), word("from_date"), problems) or (
            self.date_to - timedelta(days=DEFAULT_DAYS - 1)
        )
        if self.date_from > self.date_to:
            later = said(
                "시작일은 종료일보다 늦을 수 없습니다.", "The start date cannot be later than the end date."
            )
            problems.append((word("from_date"), later))
        elif self.date_to - self.date_from > MAX_SPAN:
            span = said("기간은 3년을 넘을 수 없습니다.", "The period cannot exceed 3 years.")
            problems.append((word("to_date"), span))
        if problems:
            raise FormProblem(
                422, said("보고서 조건을 확인해 주세요.", "Check the report filters."), problems
            )

    def query(self) -> dict[str, str | list[str]]:
        """The filters as query-string values (for the CSV link)."""
        values: dict[str, str | list[str]] = {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
        }
        for name, value in (("center", self.center), ("kind", self.kind), ("channel", self.channel)):
            if value:
                values[name] = value
        values["group_by"] = list(self.group_by)
        values["shown"] = "1"  # no group ticked stays the total in the CSV too
        return values


def _day(value: str, label: str, problems: list[tuple[str, str]]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append((label, word("bad_date")))
        return None


def _report(filters: Filters) -> AttendanceReport:
    ctx = context()
    zone = ctx.settings.timezone
    start = datetime.combine(filters.date_from, time(0), zone)
    end = datetime.combine(filters.date_to + timedelta(days=1), time(0), zone)
    return reports.attendance_report(
        ctx, filters.group_by, start, end, filters.center, filters.kind, filters.channel
    )


def group_value(key: str, value: object, lang: str) -> str:
    """A group's value as a person reads it."""
    en = lang == "en"
    if value is None:
        return "-"
    if key == "kind":
        return KIND_LABELS.get(str(value), (str(value), str(value)))[en]
    if key == "weekday" and isinstance(value, int) and 1 <= value <= 7:
        return WEEKDAYS[value - 1][en]
    if key == "hour":
        return f"{value}:00" if en else f"{value}시"
    if key == "confirmed_on_page":
        return ("Yes" if value else "No") if en else ("예" if value else "아니요")
    return str(value)


def row_label(report: AttendanceReport, row: AttendanceRow, lang: str) -> str:
    if not report.group_by:
        return word("report_total", lang)
    return " · ".join(group_value(key, getattr(row, key), lang) for key in report.group_by)


def _filters() -> Filters:
    today = context().clock().astimezone(context().settings.timezone).date()
    # The first visit groups by kind; a submitted form with no box ticked asks for the total.
    group_by = request.args.getlist("group_by") or ([] if request.args.get("shown") else ["kind"])
    return Filters(request.args, group_by, current_staff(), today)


def _center_choices(centers: frozenset[str] | None, chosen: str | None) -> list[str]:
    """The centres the filter offers: the account's own, or every registered one (ministry)."""
    if centers is not None:
        return sorted(centers)
    codes = {center.code for center in centers_service.listing(context())}
    return sorted(codes | ({chosen} if chosen else set()))


@bp.get("/attendance")
@login_required
def index() -> Response:
    filters = _filters()
    report = _report(filters)
    lang = language()
    staff = current_staff()
    centers = visible_centers(staff)
    chart = no_show_chart(
        [
            ChartRow(row_label(report, r, lang), r.no_show_rate, r.no_show_rate_low, r.no_show_rate_high)
            for r in report.rows
        ],
        word("chart_title", lang),
        word("chart_desc", lang),
        word("chart_hidden", lang),
    )
    return page(
        "console/attendance.html",
        filters=filters,
        report=report,
        chart=chart,
        label=lambda row: row_label(report, row, lang),
        center_choices=_center_choices(centers, filters.center),
        center_names=center_names(),
        every_center=centers is None,
        kinds=[(k, KIND_LABELS[k][lang == "en"]) for k in KINDS],
        channel_keys=CHANNEL_KEYS,
        group_choices=[(k, GROUP_LABELS[k][lang == "en"]) for k in GROUP_KEYS],
        percent=lambda value: "" if value is None else f"{value * 100:.1f}%",
    )


@bp.get("/attendance.csv")
@login_required
def download() -> Response:
    """The same table as CSV, with the API's columns (``<5`` in small cells, no rate)."""
    report = _report(_filters())
    return Response(
        reports.as_csv(report),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="attendance.csv"',
            "Cache-Control": "no-store",
        },
    )


def local_moment(value: str, label: str, problems: list[tuple[str, str]]) -> datetime | None:
    """A ``datetime-local`` field (``YYYY-MM-DDTHH:MM``, the service's zone) as an aware time."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value[:19])
    except ValueError:
        problems.append((label, word("bad_moment")))
        return None
    if parsed.tzinfo is not None or not date(1971, 1, 1) <= parsed.date() <= date(2999, 1, 1):
        problems.append((label, word("bad_moment")))
        return None
    return parsed.replace(tzinfo=context().settings.timezone)
