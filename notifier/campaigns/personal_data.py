"""The SQL that removes personal data from campaign lists: a person's erasure, and the lists of
campaigns that ended (kept only as long as a fan-out may need them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, cast, func, literal, or_, select, update

from notifier.campaigns.tables import campaign_recipients, campaign_rejections, campaigns
from notifier.domain.campaign_status import CampaignStatus
from notifier.domain.erasure import ERASED, Person, scrub


def erase_person(conn: Connection, person: Person, now: datetime) -> int:
    """Remove a person from the owner's campaign lists and rejected rows; return the rows changed.

    A list row keeps its place (row numbers, counts) but loses every personal column and is
    left out of any fan-out still to come (``excluded = 'erased'``).
    """
    cr, rejected = campaign_recipients, campaign_rejections
    owned = select(campaigns.c.id).where(campaigns.c.owner == person.owner).scalar_subquery()
    addressed = [
        *([cr.c.phone == person.phone] if person.phone else []),
        *([func.lower(cr.c.email) == person.email] if person.email else []),
    ]
    changed = 0
    if addressed:
        changed += conn.execute(
            update(cr)
            .where(cr.c.campaign_id.in_(owned), or_(*addressed))
            .values(
                address=_erased_address(),
                phone=None,
                email=None,
                name="",
                data={},
                excluded="erased",
            )
        ).rowcount
    # Rows that may name the person (a phone's last four digits survive any spelling), checked
    # one by one below.
    fragments = [f for f in (person.phone and person.phone[-4:], person.email, person.name) if f]
    if not fragments:
        return changed
    query = select(rejected.c.campaign_id, rejected.c.row_no, rejected.c.reason, rejected.c.raw).where(
        rejected.c.campaign_id.in_(owned),
        or_(*(column.contains(f) for f in fragments for column in (rejected.c.reason, rejected.c.raw))),
    )
    for row in conn.execute(query).mappings():
        if person.is_named_in(row["reason"]) or person.is_named_in(row["raw"] or ""):
            conn.execute(
                update(rejected)
                .where(rejected.c.campaign_id == row["campaign_id"], rejected.c.row_no == row["row_no"])
                .values(reason=scrub(row["reason"], person), raw=None)
            )
            changed += 1
    # The upload report quotes the first rejected rows' reasons.
    reports = select(campaigns.c.id, campaigns.c.report).where(
        campaigns.c.owner == person.owner,
        or_(*(func.lower(cast(campaigns.c.report, Text)).contains(f) for f in fragments)),
    )
    for campaign_id, report in conn.execute(reports).all():
        scrubbed = scrub(report, person)
        if scrubbed != report:
            conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(report=scrubbed))
            changed += 1
    return changed


def scrub_ended_lists(conn: Connection, ended_after: datetime, ended_before: datetime, limit: int) -> int:
    """Empty the personal columns of up to ``limit`` list rows of campaigns that ended in that window.

    A campaign's list is needed to fan it out; once it finished or was cancelled, only its
    counts matter (``excluded`` stays, so the report still adds up). Returns the rows changed.
    """
    cr = campaign_recipients
    ended_at = func.coalesce(campaigns.c.finished_at, campaigns.c.cancelled_at)
    ended = select(campaigns.c.id).where(
        campaigns.c.status.in_([CampaignStatus.FINISHED.value, CampaignStatus.CANCELLED.value]),
        ended_at >= ended_after,
        ended_at < ended_before,
    )
    found = conn.execute(
        select(cr.c.campaign_id, cr.c.row_no)
        .where(
            cr.c.campaign_id.in_(ended.scalar_subquery()),
            or_(cr.c.phone.is_not(None), cr.c.email.is_not(None)),
        )
        .limit(limit)
    ).all()
    for campaign_id, row_nos in _by_campaign(found).items():
        conn.execute(
            update(cr)
            .where(cr.c.campaign_id == campaign_id, cr.c.row_no.in_(row_nos))
            .values(address=_erased_address(), phone=None, email=None, name="", data={})
        )
    return len(found)


def _erased_address() -> ColumnElement[str]:
    """``erased:<row number>``, a list row's address once blanked (unique per campaign).

    Spelled with ``||``: SQLite has ``concat()`` only from 3.44, and ``notifier dev`` may run on
    an older one.
    """
    return literal(f"{ERASED}:", Text) + cast(campaign_recipients.c.row_no, Text)


def _by_campaign(rows: Iterable[Any]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for campaign_id, row_no in rows:
        grouped.setdefault(campaign_id, []).append(row_no)
    return grouped
