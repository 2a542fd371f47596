"""Opt-outs: recording one, and the claim check that keeps a message from anyone who said no.

Threat: an advertising or campaign message reaching a person after they opted out is a fine
for the centre and a broken promise (정보통신망법 제50조). So an opt-out takes effect at once
and in two places: the pending messages to that address are suppressed in the same
transaction that stores it, and a claim check (``register``) suppresses anything a worker was
about to send a moment later. What an opt-out covers is written once, in ``consent.coverage``;
addresses are stored only as hashes (``consent.addresses``).

A message already claimed when the opt-out commits is stopped by the worker's last look
before the provider call (``messages.sending.LastLook``), which is at most
``LAST_LOOK_SECONDS`` old when a message is handed over. So when such a message exists, the
answer waits ``SETTLE_SECONDS`` (longer than that) after the commit: no message to the person
is handed to a provider after the opt-out's answer.

Every new opt-out is confirmed to the person on the channel it covers (template
``opt_out_confirmation``, informational, never suppressed). The confirmation is sent for the
first center found of: the owner's stored recipient with that address; the ``center`` code of
the request; the latest message to that address; the center whose SMS sender number an SMS
reply was sent to. With none of these (nobody ever wrote to that address) no confirmation is
sent, and the opt-out holds all the same. Repeating an opt-out that is already in force
confirms nothing again.

Opt-outs come in through the API, unsubscribe links (``consent.opt_out_links``) and STOP
replies (``consent.replies``); advertising consent is checked in ``consent.advertising_consent``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from notifier.consent import recipients
from notifier.consent import repository as consent_repo
from notifier.consent.addresses import address_hash, normalise_address, stored_address_hash
from notifier.consent.coverage import (
    CONFIRMATION_TEMPLATE,
    SCOPES,
    SOURCES,
    Source,
    first_reason,
    is_covered,
    reason_text,
)
from notifier.consent.repository import OptOutRecord
from notifier.context import Context
from notifier.domain.display import format_datetime
from notifier.domain.message_status import Status
from notifier.domain.phones import mask_email, mask_phone
from notifier.messages.sending import LAST_LOOK_SECONDS
from notifier.responses import ResponseModel, Timestamp
from notifier.schemas import MessageIn
from notifier.webhooks import service as webhooks

log = logging.getLogger("notifier.opt_outs")

# How long the answer waits when a covered message is being sent: longer than the send loop's
# last look may be old when it hands a message over, plus a margin for the call to start.
SETTLE_SECONDS = LAST_LOOK_SECONDS + 0.1

# What each scope stops, in the words a person reads (``consent.coverage`` decides it): ``all``
# stops advertising and every campaign message, never a message about the person's own
# appointment, so the label must not say "every message".
SCOPE_LABELS = {
    "ko": {
        "advertising": "광고성 정보",
        "all": "광고와 센터의 단체 안내 메시지 전체 (본인 예약 안내 제외)",
    },
    "en": {
        "advertising": "advertising",
        "all": "advertising and all announcements sent to many (not those about your own appointments)",
    },
}


# ---- checking ----------------------------------------------------------------------------


def opt_out_reason(
    ctx: Context, conn: Connection, *, channel: str, address: str, category: str, campaign: bool
) -> str | None:
    """Why a message of this kind may not go to ``address`` (any spelling); None: it may be sent."""
    if not is_covered("all", category=category, campaign=campaign):
        return None  # no opt-out covers it, so skip the query
    digest = address_hash(ctx, channel, address)
    found = consent_repo.opt_outs_of(conn, [digest]).get(digest, ())
    return first_reason(found, category=category, campaign=campaign)


def claim_check(
    ctx: Context, conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, tuple[Status, str]]:
    """Suppress, at claim time, each message an opt-out covers: one query for all ``rows``."""
    covered: dict[str, tuple[str, dict[str, Any]]] = {}
    for row in rows:
        kind = {
            "category": row["category"],
            "campaign": row["campaign_id"] is not None,
            "purpose": row["purpose"],
            "template_key": row["template_key"],
        }
        # An AlimTalk reaches a phone, and its SMS fallback too: a phone's opt-out stops it.
        channel = "sms" if row["channel"] in ("sms", "kakao") else row["channel"]
        address = row["to_phone"] if channel == "sms" else row["to_email"]
        if address and is_covered("all", **kind):
            covered[row["id"]] = (stored_address_hash(ctx, channel, address), kind)
    if not covered:
        return {}
    found = consent_repo.opt_outs_of(conn, (digest for digest, _ in covered.values()))
    verdicts = {}
    for message_id, (digest, kind) in covered.items():
        reason = first_reason(found.get(digest, ()), **kind)
        if reason:
            verdicts[message_id] = (Status.SUPPRESSED, reason)
    return verdicts


def register(ctx: Context) -> None:
    """Add the opt-out check to ``ctx``, at the claim and again right before the provider call.

    Called once, from ``bootstrap``. A claimed message may wait seconds for its send slot; an
    opt-out answered meanwhile must still stop it, so the send loop looks again.
    """

    def check(
        conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime
    ) -> dict[str, tuple[Status, str]]:
        return claim_check(ctx, conn, rows, now)

    ctx.claim_checks.append(check)
    ctx.send_checks.append(check)


# ---- recording ---------------------------------------------------------------------------


class OptOut(ResponseModel):
    """An opt-out in force."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    channel: Literal["sms", "email"]
    address: str = Field(description="masked; only a keyed hash is stored")
    scope: Literal["advertising", "all"]
    source: Source
    created_at: Timestamp
    suppressed_messages: int = Field(description="pending messages suppressed now")
    confirmation_message_id: str | None = Field(description="the confirmation sent")


def opt_outs_for(ctx: Context, channel: str, address: str) -> list[OptOutRecord]:
    """Every opt-out recorded for an address (how and when), oldest first."""
    digest = address_hash(ctx, channel, address)
    with ctx.engine.connect() as conn:
        return consent_repo.opt_out_records(conn, digest)


def opt_out_covering(ctx: Context, channel: str, address: str, scope: str) -> OptOutRecord | None:
    """The opt-out in force that already covers ``scope`` for this address, if any."""
    digest = address_hash(ctx, channel, address)
    with ctx.engine.connect() as conn:
        return consent_repo.opt_out_in_force(conn, digest, scope)


def record_opt_out(
    ctx: Context,
    *,
    channel: str,
    address: str,
    scope: str,
    source: str,
    owner: str | None = None,
    center_code: str | None = None,
    texted: str | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Store an opt-out, suppress pending messages, confirm it; returns (created, view)."""
    if scope not in SCOPES or source not in SOURCES:
        raise ValueError(f"scope {scope!r} or source {source!r} is unknown")
    normalised = normalise_address(channel, address)
    digest = address_hash(ctx, channel, normalised)
    now = ctx.clock()
    try:
        with ctx.engine.begin() as conn:
            in_force = consent_repo.opt_out_in_force(conn, digest, scope)
            opt_out = in_force or OptOutRecord(str(uuid.uuid4()), digest, channel, scope, source, owner, now)
            if in_force is None:
                consent_repo.insert_opt_out(conn, opt_out)
            suppressed = consent_repo.suppress_covered_messages(
                conn, channel, normalised, opt_out.scope, now, reason_text(opt_out.scope, opt_out.source)
            )
            in_flight = consent_repo.covered_in_flight(conn, channel, normalised, opt_out.scope)
            if in_force is None:
                emit_opted_out(
                    conn,
                    channel=channel,
                    address=normalised,
                    scope=scope,
                    source=source,
                    now=now,
                    recorded_by=owner,
                    suppressed_ids=suppressed,
                )
            origin = (
                None
                if in_force
                else recipients.contact_for(ctx, conn, channel, normalised, owner, center_code, texted)
            )
    except IntegrityError:  # the same opt-out arrived twice at once; the other one is in force
        return record_opt_out(ctx, channel=channel, address=address, scope=scope, source=source, owner=owner)
    if in_flight:  # committed: every worker's next last look sees it; let the older looks run out
        time.sleep(SETTLE_SECONDS)
    masked = mask_phone(normalised) if channel == "sms" else mask_email(normalised)
    log.info("opt-out", extra={"address": masked, "scope": opt_out.scope, "suppressed": len(suppressed)})
    confirmation = _confirm(ctx, opt_out, normalised, origin) if origin else None
    view = OptOut.model_validate(
        {
            "id": opt_out.id,
            "channel": channel,
            "address": masked,
            "scope": opt_out.scope,
            "source": opt_out.source,
            "created_at": opt_out.created_at,
            "suppressed_messages": len(suppressed),
            "confirmation_message_id": confirmation,
        }
    )
    return in_force is None, view.dump()


def _confirm(ctx: Context, opt_out: OptOutRecord, address: str, origin: recipients.Contact) -> str | None:
    """Queue the confirmation message; a failure is logged and never undoes the opt-out."""
    from notifier.messages.accept import accept_message

    channel = opt_out.channel
    labels = SCOPE_LABELS["en" if origin.locale.lower().startswith("en") else "ko"]
    try:
        body = MessageIn.model_validate(
            {
                "template": CONFIRMATION_TEMPLATE,
                "channel": channel,
                "to": {
                    "phone": address if channel == "sms" else None,
                    "email": address if channel == "email" else None,
                    "name": origin.name,
                    "locale": origin.locale,
                },
                "center": origin.center,
                # The answer to what the person just did: it goes at once, even in quiet hours.
                "urgent": True,
                "data": {
                    "opt_out": {
                        "scope_label": labels[opt_out.scope],
                        "when": format_datetime(opt_out.created_at, origin.locale, origin.timezone),
                    }
                },
            }
        )
        _, message = accept_message(
            ctx, origin.owner, body, body.model_dump(mode="json"), idempotency_key=f"opt-out-{opt_out.id}"
        )
    except Exception:  # a refused body, a database error, an intake timeout: the opt-out stands
        log.exception("could not confirm an opt-out", extra={"opt_out": opt_out.id})
        return None
    return str(message["id"])


def emit_opted_out(
    conn: Connection,
    *,
    channel: str,
    address: str,
    scope: str,
    source: str,
    now: datetime,
    recorded_by: str | None,
    suppressed_ids: list[str],
) -> int:
    """Tell every client that knows this person (stored them, or wrote to them) that they opted out."""
    known = consent_repo.external_ids_by_owner(conn, channel, address)
    owners = set(known) | ({recorded_by} if recorded_by else set())
    owners |= consent_repo.owners_of_messages(conn, suppressed_ids)
    sent = 0
    for owner in sorted(owners):
        data = {
            "channel": channel,
            "phone" if channel == "sms" else "email": address,
            "recipient_external_id": known.get(owner),
            "scope": scope,
            "source": source,
            "at": now.isoformat(),
        }
        sent += webhooks.emit(conn, owner, "recipient.opted_out", data, now) is not None
    return sent
