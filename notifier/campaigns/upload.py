"""Check every row of a campaign's recipient list before anything is sent, and store it.

Rows come from ``campaign_lists`` (CSV upload, inline JSON, stored recipients) as a stream.
Memory does not grow with the list: usable rows go to ``campaign_recipients`` ``BATCH_ROWS`` at a time
(where a unique constraint merges duplicate addresses), rejected rows to
``campaign_rejections``, and the report is computed with SQL at the end.

Sizing every SMS would mean rendering every row; instead one row of each *shape* is rendered
(channel, locale, which values are filled in and their cp949 lengths, up to ``MAX_SHAPES``
shapes, then by channel, locale and filled-in values only) and its class and segments stand
for every row of that shape. Workers render each message for real before sending it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection

from notifier.campaigns import repository as campaign_repo
from notifier.campaigns.lists import MAX_ROWS, ListRow
from notifier.campaigns.render import ADVERTISING, RENDER_ERRORS, render_for
from notifier.consent import repository as consent_repo
from notifier.consent.addresses import address_hash
from notifier.consent.advertising_consent import advertising_consent_ok
from notifier.consent.opt_outs import opt_out_reason
from notifier.context import Context
from notifier.domain.phones import parse_phone
from notifier.domain.templates import TemplateVersion
from notifier.errors import FieldError, InvalidPhoneNumber, ValidationFailed
from notifier.messages.accept import Recipient

BATCH_ROWS = 1000
REPORTED_REJECTIONS = 100
MAX_SHAPES = 4096
MAX_NAME = 100
LOCALE = re.compile(r"[a-z]{2}(-[A-Z]{2})?")


@dataclass(frozen=True)
class Plan:
    """What every row is checked against."""

    owner: str
    category: str
    channel: str
    center: dict[str, str]
    data: dict[str, Any]
    opt_out_number: str | None
    version: TemplateVersion
    now: datetime


# ---- checking --------------------------------------------------------------------------


@dataclass(frozen=True)
class Usable:
    row_no: int
    channel: str
    address: str
    phone: str | None
    email: str | None
    name: str
    locale: str
    data: dict[str, Any]


def resolve(row: ListRow, channel: str) -> Usable | str:
    """Pick the channel and normalise the address of one row; a string says why it cannot be used."""
    if row.refused:
        return row.refused
    if len(row.name) > MAX_NAME:
        return f"name: longer than {MAX_NAME} characters"
    if not LOCALE.fullmatch(row.locale):
        return f"locale: {row.locale!r} is not a language code such as ko or en"
    phone = email = None
    problems = []
    if row.phone:
        try:
            parsed = parse_phone(row.phone)
            phone = parsed.e164 if parsed.is_mobile else None
            if not parsed.is_mobile and channel != "email":
                problems.append(f"phone: {parsed.national} is not a mobile number; SMS needs one")
        except InvalidPhoneNumber as exc:
            problems.append(f"phone: {exc.reason}")
    if row.email:
        try:
            email = validate_email(row.email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            problems.append(f"email: {exc}")
    if channel == "auto":
        channel = "sms" if phone else "email" if email else ""
    address = phone if channel == "sms" else email.lower() if channel == "email" and email else None
    if address is None:
        if problems:
            return "; ".join(problems)
        need = {"sms": "mobile number", "email": "email address"}.get(channel)
        return f"no {need or 'mobile number or email address'}"
    return Usable(row.row_no, channel, address, phone, email, row.name, row.locale, row.data)


@dataclass
class Estimator:
    """Render one row per shape to size the messages; remembers at most ``MAX_SHAPES`` shapes."""

    ctx: Context
    plan: Plan
    shapes: dict[tuple[Any, ...], tuple[str | None, int | None] | str] = field(default_factory=dict)

    def measure(self, usable: Usable) -> tuple[str | None, int | None] | str:
        """(SMS/LMS, segments) for an SMS, (None, None) for email; a string is a rejection."""
        merged = {**self.plan.data, **usable.data}
        keys = tuple(sorted(merged))
        fine = (usable.channel, usable.locale, keys, _size(usable.name), *(_size(merged[k]) for k in keys))
        coarse = (usable.channel, usable.locale, keys)
        key = fine if fine in self.shapes or len(self.shapes) < MAX_SHAPES else coarse
        if key not in self.shapes:
            self.shapes[key] = self._render(usable, merged)
        return self.shapes[key]

    def _render(self, usable: Usable, merged: dict[str, Any]) -> tuple[str | None, int | None] | str:
        plan = self.plan
        try:
            rendered, _ = render_for(
                self.ctx,
                plan.version,
                owner=plan.owner,
                category=plan.category,
                opt_out_number=plan.opt_out_number,
                center=plan.center,
                channel=usable.channel,
                recipient=Recipient(usable.phone, usable.email, usable.name, usable.locale),
                data=merged,
                estimate=True,
            )
        except RENDER_ERRORS as exc:
            return exc.detail if isinstance(exc, ValidationFailed) else f"the template fails: {exc}"
        if rendered.sms is None:
            return None, None
        return (rendered.sms.kr_class.value if rendered.sms.kr_class else None), rendered.sms.segments


def _size(value: Any) -> int:
    return len(str(value).encode("cp949", errors="replace"))


def exclusions(ctx: Context, conn: Connection, plan: Plan, batch: list[dict[str, Any]]) -> None:
    """Set ``excluded`` to 'opted_out' or 'no_consent' on the rows that must be left out.

    Two queries per batch find the few rows worth a closer look (an opt-out with that address
    hash; a stored recipient with that address); only those are checked one by one.
    """
    hashes = {row["address"]: address_hash(ctx, row["channel"], row["address"]) for row in batch}
    opted = consent_repo.opted_out_hashes(conn, hashes.values())
    known: set[str] = set()
    if plan.category == ADVERTISING:  # stored phones are E.164 and emails lower case, as addresses here
        for channel in ("sms", "email"):
            wanted = {row["address"] for row in batch if row["channel"] == channel}
            known |= consent_repo.known_addresses(conn, plan.owner, channel, wanted)
    for row in batch:
        kind = {"channel": row["channel"], "address": row["address"]}
        if hashes[row["address"]] in opted and opt_out_reason(
            ctx, conn, **kind, category=plan.category, campaign=True
        ):
            row["excluded"] = "opted_out"
        elif plan.category == ADVERTISING and not (
            row["address"] in known
            and advertising_consent_ok(
                ctx,
                conn,
                owner=plan.owner,
                channel=row["channel"],
                phone=row["phone"],
                email=row["email"],
                now=plan.now,
            )
        ):
            row["excluded"] = "no_consent"


# ---- storing ---------------------------------------------------------------------------


def store_rows(ctx: Context, conn: Connection, plan: Plan, campaign_id: str, rows: Iterable[ListRow]) -> int:
    """Check and store every row in batches; returns how many rows were read."""
    estimator = Estimator(ctx, plan)
    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        count += 1
        if count > MAX_ROWS:
            raise ValidationFailed([FieldError("/filter", f"the list has more than {MAX_ROWS:,} rows")])
        usable = resolve(row, plan.channel)
        measured = estimator.measure(usable) if isinstance(usable, Usable) else usable
        if isinstance(usable, str) or isinstance(measured, str):
            reason = usable if isinstance(usable, str) else str(measured)
            bad.append({"campaign_id": campaign_id, "row_no": row.row_no, "reason": reason, "raw": row.raw})
        else:
            good.append(
                {
                    "campaign_id": campaign_id,
                    "row_no": row.row_no,
                    "address": usable.address,
                    "channel": usable.channel,
                    "phone": usable.phone,
                    "email": usable.email,
                    "name": usable.name,
                    "locale": usable.locale,
                    "data": usable.data,
                    "kr_class": measured[0],
                    "segments": measured[1],
                    "excluded": None,
                }
            )
        if len(good) >= BATCH_ROWS or len(bad) >= BATCH_ROWS:
            _flush(ctx, conn, plan, good, bad)
    _flush(ctx, conn, plan, good, bad)
    return count


def _flush(
    ctx: Context, conn: Connection, plan: Plan, good: list[dict[str, Any]], bad: list[dict[str, Any]]
) -> None:
    if good:
        exclusions(ctx, conn, plan, good)
    campaign_repo.insert_recipients(conn, good)  # a unique constraint merges duplicate addresses
    campaign_repo.insert_rejections(conn, bad)
    good.clear()
    bad.clear()


def report(conn: Connection, campaign_id: str, rows: int) -> dict[str, Any]:
    """The validation report, counted from what was stored."""
    counts = campaign_repo.stored_counts(conn, campaign_id, REPORTED_REJECTIONS)
    stored = counts.by_exclusion
    rejected_count = counts.rejected
    first = counts.first_rejections
    kept = sum(stored.values())
    by_class = counts.by_class
    return {
        "rows": rows,
        "usable": stored.get(None, 0),
        "rejected": {"count": rejected_count, "items": [{"row": r, "reason": why} for r, why in first]},
        "duplicates_merged": rows - rejected_count - kept,
        "excluded_opted_out": stored.get("opted_out", 0),
        "excluded_no_consent": stored.get("no_consent", 0),
        "sms": by_class.get(("sms", "SMS"), (0, 0))[0],
        "lms": by_class.get(("sms", "LMS"), (0, 0))[0],
        "segments": sum(seg for (channel, _), (_, seg) in by_class.items() if channel == "sms"),
        "email": sum(n for (channel, _), (n, _) in by_class.items() if channel == "email"),
        "sizes_estimated_from": "one rendered row per shape (channel, locale, values and their lengths)",
    }
