"""Campaigns: one template to many recipients, checked before anything is sent.

Life of a campaign: ``draft`` (created with its validation report) -> ``scheduled`` (start at
a later time) -> ``running`` (messages being created and sent) -> ``finished`` (none pending
any more); ``cancelled`` from any of the first three: what was not yet handed to a worker is
cancelled, what was sent stays sent. Every campaign carries an explicit category
(informational or advertising); the service never guesses it.

See ``campaign_upload`` (reading and checking the list), ``campaign_fanout`` (messages, night
hold, finishing) and ``campaign_render`` (rendering in the worker).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any, Literal

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict
from sqlalchemy import Connection
from sqlalchemy.engine import RowMapping

from notifier.campaigns import by_center, personal_data
from notifier.campaigns import fanout as campaign_fanout
from notifier.campaigns import lists as campaign_lists
from notifier.campaigns import repository as campaign_repo
from notifier.campaigns import upload as campaign_upload
from notifier.campaigns.render import ADVERTISING, campaign_info, render_claimed
from notifier.campaigns.views import ExpectedCost, campaign_view
from notifier.centers import service as centers
from notifier.channels import pricing
from notifier.context import Context
from notifier.domain.campaign_status import CampaignStatus, campaign_can_move
from notifier.domain.phones import parse_phone
from notifier.errors import Conflict, FieldError, InvalidPhoneNumber, NotFound, ValidationFailed
from notifier.messages import repository as repo
from notifier.messages import throttle as rate_limit
from notifier.messages.views import MessageList, decode_cursor, encode_cursor, message_model
from notifier.schemas import NOT_BLANK, PHONE_SCHEMA, IsoTime, Locale, PhoneText, Strict
from notifier.staff import audit
from notifier.staff.audit import Actor
from notifier.templates import repository as template_repo
from notifier.templates.rendering import ADVERTISING_NOT_BY_ALIMTALK

MAX_INLINE_RECIPIENTS = 10_000
CANCEL_BUDGET_SECONDS = 5.0
FREE_OPT_OUT_PREFIX = "+8280"  # 080 numbers: free for the caller
OPT_OUT_NUMBER_PATTERN = r"^(080|\+82[ \-]?80|0082[ \-]?80)[ \-]?[0-9]{3,4}[ \-]?[0-9]{4}$"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CampaignRecipientIn(Strict):
    # A row's phone or email that cannot be used rejects that row (in the report), not the list.
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    name: str = Field(default="", max_length=200)
    locale: str = Locale
    data: dict[str, Any] = Field(default_factory=dict)


class CampaignFilterIn(Strict):
    """Stored recipients of ``center`` (any centre if absent) carrying every one of ``tags``."""

    center: str | None = Field(default=None, max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=20)


CAMPAIGN_ALIMTALK_NOT_YET = (
    "캠페인은 아직 알림톡으로 보내지 않습니다: channel을 sms, email 또는 auto로 정해 주세요."
)

# Advertising that may go by SMS (channel sms or auto) names its free 080 opt-out number
# (정보통신망법 제50조): JSON Schema for the JSON body and the CSV upload's form.
ADVERTISING_SMS_NEEDS_OPT_OUT: JsonDict = {
    "if": {
        "required": ["category"],
        "properties": {"category": {"const": "advertising"}, "channel": {"not": {"const": "email"}}},
    },
    "then": {
        "required": ["opt_out_number"],
        "properties": {"opt_out_number": {"type": "string", "pattern": OPT_OUT_NUMBER_PATTERN}},
    },
}


class CampaignIn(Strict):
    # As JSON, exactly one of the two lists (a CSV upload sends neither: see the API).
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["recipients"], "properties": {"recipients": {"type": "array"}}},
                {"required": ["filter"], "properties": {"filter": {"type": "object"}}},
            ],
            **ADVERTISING_SMS_NEEDS_OPT_OUT,
        }
    )

    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    template: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_\-]+$")
    category: Literal["informational", "advertising"]
    center: str = Field(
        min_length=1, max_length=50, pattern=NOT_BLANK, description="code of the sending centre"
    )
    # kakao is not a campaign channel: the document leaves it out, and a campaign that asks
    # for it hears why (advertising never by AlimTalk; informational campaigns not yet).
    channel: Literal["sms", "email", "auto", "kakao"] = Field(
        default="auto", json_schema_extra={"enum": ["sms", "email", "auto"]}
    )
    data: dict[str, Any] = Field(default_factory=dict, description="template values common to all")
    opt_out_number: str | None = Field(
        default=None,
        max_length=32,
        pattern=OPT_OUT_NUMBER_PATTERN,
        description="free 080 opt-out number (080, +82 80 or 0082 80, then the number); required "
        "for advertising SMS; one not valid in the Korean numbering plan is refused (422)",
    )
    rate_per_second: float | None = Field(default=None, gt=0, le=10_000, description="cap for this campaign")
    recipients: list[CampaignRecipientIn] | None = Field(default=None, max_length=MAX_INLINE_RECIPIENTS)
    filter: CampaignFilterIn | None = None


class StartIn(Strict):
    at: IsoTime | None = None


class SendTestIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["phone"], "properties": {"phone": PHONE_SCHEMA}},
                {"required": ["email"], "properties": {"email": {"type": "string", "minLength": 1}}},
            ]
        }
    )

    phone: PhoneText | None = None
    email: str | None = Field(default=None, max_length=320)


# ---- creating --------------------------------------------------------------------------


def _check_spec(
    ctx: Context, spec: CampaignIn, csv_file: IO[bytes] | None
) -> tuple[Any, dict[str, str], str | None]:
    errors: list[FieldError] = []
    if csv_file is not None and (spec.recipients is not None or spec.filter is not None):
        errors.append(FieldError("/recipients", "send the list either as a file or inline, not both"))
    if csv_file is None and (spec.recipients is None) == (spec.filter is None):
        errors.append(
            FieldError("/recipients", "give either 'recipients' or 'filter' (or upload a CSV file)")
        )
    with ctx.engine.connect() as conn:
        version = template_repo.get(conn, spec.template)
    if version is None:
        errors.append(FieldError("/template", f"no template named {spec.template!r}"))
    elif spec.channel != "auto" and not any(version.has_channel(spec.channel, lo) for lo in version.sources):
        errors.append(FieldError("/channel", f"template {spec.template!r} has no {spec.channel} variant"))
    if spec.channel == "kakao":  # Kakao's rule first: it is the reason an advertiser must hear
        reason = ADVERTISING_NOT_BY_ALIMTALK if spec.category == ADVERTISING else CAMPAIGN_ALIMTALK_NOT_YET
        errors.append(FieldError("/channel", reason))
    opt_out = None
    if spec.opt_out_number:
        try:
            opt_out = parse_phone(spec.opt_out_number).e164
        except InvalidPhoneNumber as exc:
            errors.append(FieldError("/opt_out_number", exc.reason))
        if opt_out and not opt_out.startswith(FREE_OPT_OUT_PREFIX):
            errors.append(FieldError("/opt_out_number", "must be a free 080 number (무료수신거부)"))
    elif spec.category == ADVERTISING and spec.channel != "email":
        errors.append(
            FieldError("/opt_out_number", "an advertising SMS needs the centre's free 080 opt-out number")
        )
    try:
        center = _center(ctx, spec.center)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        center = {}
    if errors:
        raise ValidationFailed(errors)
    return version, center, opt_out


def _center(ctx: Context, code: str) -> dict[str, str]:
    return centers.get(ctx, code, pointer="/center").identity()


def create_campaign(
    ctx: Context, owner: str, spec: CampaignIn, csv_file: IO[bytes] | None = None, actor: Actor | None = None
) -> dict[str, Any]:
    """Check the list row by row and store the campaign as a draft with its report.

    With ``actor``, the audit log records who did it in the same transaction (so with every
    action here).
    """
    version, center, opt_out = _check_spec(ctx, spec, csv_file)
    now = ctx.clock()
    campaign_id = str(uuid.uuid4())
    plan = campaign_upload.Plan(owner, spec.category, spec.channel, center, spec.data, opt_out, version, now)
    source = "csv" if csv_file is not None else "inline" if spec.recipients is not None else "filter"
    with ctx.engine.begin() as conn:  # one transaction: a refused upload leaves nothing behind
        campaign_repo.insert_campaign(
            conn,
            id=campaign_id,
            owner=owner,
            name=spec.name,
            template_key=version.key,
            template_version=version.version,
            category=spec.category,
            channel=spec.channel,
            center=center,
            data=spec.data,
            opt_out_number=opt_out,
            rate_per_second=spec.rate_per_second,
            source=source,
            status=CampaignStatus.DRAFT.value,
            report={},
            fanout_after=-1,
            fanned_out=False,
            created_at=now,
            updated_at=now,
        )
        if csv_file is not None:
            rows = campaign_lists.csv_rows(csv_file)
        elif spec.recipients is not None:
            rows = campaign_lists.inline_rows(r.model_dump() for r in spec.recipients)
        else:
            assert spec.filter is not None
            rows = campaign_lists.stored_rows(conn, owner, spec.filter.center, spec.filter.tags)
        count = campaign_upload.store_rows(ctx, conn, plan, campaign_id, rows)
        report = campaign_upload.report(conn, campaign_id, count)
        campaign_repo.set_report(conn, campaign_id, report)
        detail = f"{spec.name[:100]} {spec.category} rows={report['rows']}"
        _audit(conn, actor, "campaign_created", campaign_id, center.get("code"), now, detail)
    return get_campaign(ctx, owner, campaign_id)


def _audit(
    conn: Connection,
    actor: Actor | None,
    action: str,
    campaign_id: str,
    center_code: str | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    if actor is not None:
        audit.record(
            conn,
            actor.who,
            action,
            "campaign",
            campaign_id,
            now,
            center_code=center_code,
            address=actor.address,
            detail=detail,
        )


# ---- reading ---------------------------------------------------------------------------


# ``owner`` None: any owner's campaign (the admin's command line); the API always names one.


def _own(conn: Connection, owner: str | None, campaign_id: str, *, lock: bool = False) -> RowMapping:
    row = campaign_repo.find(conn, campaign_id, lock=lock)
    if row is None or (owner is not None and row["owner"] != owner):
        raise NotFound(f"no campaign {campaign_id}")
    return row


def get_campaign(ctx: Context, owner: str | None, campaign_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = _own(conn, owner, campaign_id)
        return _view(ctx, conn, row)


def _view(ctx: Context, conn: Connection, row: RowMapping) -> dict[str, Any]:
    """The campaign's view, with its expected cost and what it has spent so far."""
    counts = campaign_repo.message_counts(conn, row["id"])
    report = row["report"] or {}
    provider, krw = pricing.expected_krw(
        ctx, row["center"].get("code"), {"SMS": report.get("sms", 0), "LMS": report.get("lms", 0)}
    )
    expected = ExpectedCost(provider=provider, krw=krw) if report else None
    spent = pricing.spent_krw(ctx, campaign_repo.accepted_counts(conn, row["id"])) if counts else 0.0
    return campaign_view(row, counts, expected, spent)


def list_campaigns(ctx: Context, owner: str | None, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """Campaigns newest first, a page of ``limit`` and the cursor of the next page."""
    after = decode_cursor(cursor) if cursor else None
    with ctx.engine.connect() as conn:
        rows = campaign_repo.page(conn, owner, limit=limit + 1, after=after)
        more = len(rows) > limit
        rows = rows[:limit]
        items = [_view(ctx, conn, row) for row in rows]
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None
    return {"items": items, "next_cursor": next_cursor}  # as views.CampaignList


def list_campaign_messages(
    ctx: Context, owner: str, campaign_id: str, *, status: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    after = decode_cursor(cursor) if cursor else None
    with ctx.engine.connect() as conn:
        _own(conn, owner, campaign_id)
        rows = repo.page(
            conn, owner, status=status, reference=None, limit=limit + 1, after=after, campaign_id=campaign_id
        )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None
    return MessageList(items=[message_model(r) for r in rows], next_cursor=next_cursor).dump()


def rejections_csv(ctx: Context, owner: str, campaign_id: str) -> Iterator[str]:
    """Every rejected row as CSV (row, reason, raw), read from the database in batches."""
    with ctx.engine.connect() as conn:
        _own(conn, owner, campaign_id)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["row", "reason", "raw"])
        last = -1
        while True:
            with ctx.engine.connect() as conn:
                batch = campaign_repo.rejections_after(conn, campaign_id, last, campaign_upload.BATCH_ROWS)
            writer.writerows((row_no, _cell(reason), _cell(raw)) for row_no, reason, raw in batch)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(batch) < campaign_upload.BATCH_ROWS:
                return
            last = batch[-1][0]

    return lines()


def _cell(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): '=cmd' -> "'=cmd"."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


# ---- acting ----------------------------------------------------------------------------


def start_campaign(
    ctx: Context, owner: str | None, campaign_id: str, at: datetime | None = None, actor: Actor | None = None
) -> dict[str, Any]:
    """Start now, or at ``at``; only a draft with usable recipients can start."""
    now = ctx.clock()
    later = at is not None and at > now
    with ctx.engine.begin() as conn:
        row = _own(conn, owner, campaign_id, lock=True)
        if row["status"] != CampaignStatus.DRAFT:
            raise Conflict(f"campaign is {row['status']}; only a draft can be started")
        if not row["report"].get("usable"):
            raise Conflict("the campaign has no usable recipient; nothing would be sent")
        campaign_repo.transition(
            conn,
            campaign_id,
            CampaignStatus.SCHEDULED if later else CampaignStatus.RUNNING,
            now,
            only_from=[CampaignStatus.DRAFT],
            send_at=at if later else now,
            started_at=None if later else now,
        )
        status = CampaignStatus.SCHEDULED if later else CampaignStatus.RUNNING
        detail = f"{status.value} at={at.isoformat() if at else 'now'}"
        _audit(conn, actor, "campaign_started", campaign_id, by_center.center_of(row), now, detail)
    if not later:
        campaign_fanout.fan_out_batch(
            ctx, campaign_id
        )  # the first batch at once; the scheduler does the rest
    return get_campaign(ctx, owner, campaign_id)


def cancel_campaign(
    ctx: Context, owner: str | None, campaign_id: str, actor: Actor | None = None
) -> dict[str, Any]:
    """Cancel everything not yet handed to a worker; what was sent stays sent."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        row = _own(conn, owner, campaign_id, lock=True)
        if not campaign_can_move(CampaignStatus(row["status"]), CampaignStatus.CANCELLED):
            raise Conflict(f"campaign is already {row['status']}")
        campaign_repo.transition(conn, campaign_id, CampaignStatus.CANCELLED, now, cancelled_at=now)
        _audit(
            conn, actor, "campaign_cancelled", campaign_id, by_center.center_of(row), now, row["name"][:100]
        )
    # Whatever does not fit in the budget the scheduler's tick cancels next.
    campaign_fanout.cancel_pending(ctx, campaign_id, "campaign cancelled", CANCEL_BUDGET_SECONDS)
    return get_campaign(ctx, owner, campaign_id)


# ---- wiring ----------------------------------------------------------------------------


def sender_buckets(ctx: Context, row: Any) -> list[rate_limit.Bucket]:
    """The rates a message is subject to: its provider and sender, and its campaign's cap."""
    # An SMS counts against the provider it was (or will be) attempted with.
    provider = (row.get("provider") or ctx.sms.name) if row["channel"] == "sms" else ctx.email.name
    if row["channel"] == "kakao" and ctx.alimtalk is not None:  # SOLAPI, from the same number
        provider = ctx.alimtalk.name
    buckets = [rate_limit.Bucket(f"{provider}:{row['sender']}", ctx.settings.rate_limit_for(provider))]
    info = campaign_info(ctx, row["campaign_id"]) if row["campaign_id"] else None
    if info is not None and info.rate_per_second:
        buckets.append(rate_limit.Bucket(f"campaign:{info.id}", info.rate_per_second))
    return buckets


def register(ctx: Context) -> None:
    """Add the campaign tick hook and the claim check that holds campaign messages (quiet hours, night)."""
    ctx.tick_hooks.append(campaign_fanout.campaign_tick)
    ctx.claim_checks.append(lambda conn, rows, now: campaign_fanout.hold_claim_check(ctx, conn, rows, now))
    ctx.render_unrendered = render_claimed
    ctx.batch_sent_hooks.append(campaign_fanout.fan_out_more)
    ctx.batch_sent_hooks.append(campaign_fanout.finish_done)
    ctx.erase_hooks.append(personal_data.erase_person)
    ctx.tick_hooks.append(campaign_fanout.scrub_ended_lists)
