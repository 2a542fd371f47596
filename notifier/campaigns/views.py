"""The public shape of a campaign: the JSON answer (as response models) and the terminal report."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy.engine import RowMapping

from notifier.campaigns import repository as campaign_repo
from notifier.messages.views import TemplateRef
from notifier.responses import ResponseModel, Timestamp


class RejectedRow(ResponseModel):
    row: int = Field(
        description="CSV: spreadsheet row (header = 1); inline: index in `recipients`; "
        "filter: position from 1"
    )
    reason: str


class RejectedRows(ResponseModel):
    count: int
    items: list[RejectedRow] = Field(description="the first 100; all of them at rejections.csv")


class ExpectedCost(ResponseModel):
    provider: str = Field(description="the first provider of the centre's order")
    krw: float | None = Field(description="null when the price table has no price for a class used")


class CampaignReport(ResponseModel):
    """What the list held. SMS sizes are estimated by rendering one row per shape (channel, locale,
    which values are filled in and their lengths); workers render every message."""

    rows: int = Field(description="rows read (blank lines not counted)")
    usable: int = Field(description="distinct recipients that will get a message")
    rejected: RejectedRows
    duplicates_merged: int
    excluded_opted_out: int
    excluded_no_consent: int = Field(description="advertising only")
    sms: int
    lms: int
    segments: int = Field(description="Twilio segments, all SMS/LMS together")
    email: int
    sizes_estimated_from: str = ""
    expected_cost: ExpectedCost | None = Field(
        default=None, description="the SMS and LMS above priced through the centre's first provider"
    )


class CampaignCost(ResponseModel):
    spent_krw: float = Field(
        description="KRW so far for the messages a provider accepted, each at the price of the provider "
        "that accepted it (NOTIFIER_PRICES; email is not priced)"
    )


class CampaignProgress(ResponseModel):
    total: int
    done: int


class Campaign(ResponseModel):
    id: str = Field(json_schema_extra={"format": "uuid"})
    name: str
    status: Literal["draft", "scheduled", "running", "finished", "cancelled"]
    category: Literal["informational", "advertising"]
    channel: Literal["sms", "email", "auto"]
    template: TemplateRef
    center: str | None
    source: Literal["csv", "inline", "filter"]
    opt_out_number: str | None = Field(description="E.164 of the free 080 number")
    rate_per_second: float | None
    send_at: Timestamp | None
    created_at: Timestamp | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    cancelled_at: Timestamp | None
    counts: dict[str, int] = Field(description="messages by status")
    progress: CampaignProgress
    report: CampaignReport
    cost: CampaignCost


class CampaignList(ResponseModel):
    items: list[Campaign]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


def campaign_view(
    row: RowMapping, counts: dict[str, int], expected: ExpectedCost | None = None, spent_krw: float = 0.0
) -> dict[str, Any]:
    """The public JSON shape of a campaign."""
    report = CampaignReport.model_validate(row["report"])
    report.expected_cost = expected
    final = sum(n for status, n in counts.items() if status not in campaign_repo.UNFINISHED)
    return Campaign(
        id=row["id"],
        name=row["name"],
        status=row["status"],
        category=row["category"],
        channel=row["channel"],
        template=TemplateRef(key=row["template_key"], version=row["template_version"]),
        center=row["center"].get("code"),
        source=row["source"],
        opt_out_number=row["opt_out_number"],
        rate_per_second=row["rate_per_second"],
        send_at=row["send_at"] or None,
        created_at=row["created_at"] or None,
        started_at=row["started_at"] or None,
        finished_at=row["finished_at"] or None,
        cancelled_at=row["cancelled_at"] or None,
        counts=counts,
        progress=CampaignProgress(total=int(row["report"].get("usable", 0)), done=final),
        report=report,
        cost=CampaignCost(spent_krw=spent_krw),
    ).dump()


def report_lines(view: dict[str, Any]) -> list[str]:
    """The validation report as an admin reads it on a terminal."""
    report = view["report"]
    lines = [
        f"campaign {view['name']!r} ({view['category']}, {view['channel']}): {view['status']}",
        f"  rows read           {report['rows']:>9,}",
        f"  usable              {report['usable']:>9,}",
        f"  rejected            {report['rejected']['count']:>9,}",
        f"  duplicates merged   {report['duplicates_merged']:>9,}",
        f"  opted out           {report['excluded_opted_out']:>9,}",
        f"  no consent          {report['excluded_no_consent']:>9,}",
        f"  SMS / LMS / email   {report['sms']:,} / {report['lms']:,} / {report['email']:,}"
        f"  ({report['segments']:,} segments)",
    ]
    if (expected := report.get("expected_cost")) and expected["krw"] is not None:
        lines.append(f"  expected cost       {expected['krw']:>9,.0f} KRW through {expected['provider']}")
    lines += [f"  row {item['row']}: {item['reason']}" for item in report["rejected"]["items"][:20]]
    if report["rejected"]["count"] > 20:
        lines.append(f"  ... all rejected rows: GET /v1/campaigns/{view['id']}/rejections.csv")
    return lines


def progress_line(view: dict[str, Any], width: int = 30) -> str:
    """One line: status, a bar, and the counts by message status."""
    total, done = view["progress"]["total"], view["progress"]["done"]
    filled = width * done // total if total else width
    counts = " ".join(f"{status} {n:,}" for status, n in sorted(view["counts"].items()))
    return f"{view['status']:<9} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}  {counts}"
