"""Opt-outs, and the checks that keep a message from anyone who said no (정보통신망법 제50조).

Threat: an advertising or campaign message reaching a person after they opted out is a fine
for the centre and a broken promise. So an opt-out takes effect at once and in two places:
the pending messages to that address are suppressed in the same transaction that stores it,
and a claim check (``register``) suppresses anything a worker was about to send a moment later.

What an opt-out covers (``is_covered``), for one address across every owner:

- scope ``advertising``: every message whose category is ``advertising``;
- scope ``all``: every campaign message as well (``campaign_id`` set), informational or not;
- never: informational messages about the person's own case (appointment confirmation,
  reminder, change, cancellation: ``OWN_CASE_PURPOSES``) and the opt-out confirmation itself.
  An advertising message is never exempt, whatever its purpose. A single informational message
  a client sends itself (``POST /v1/messages``, no campaign) is not a campaign message either.

Addresses are never stored: ``opt_outs`` holds HMAC-SHA256 (keyed by ``settings.secret_key``)
of the normalised address (E.164 phone, lower-cased email), so erasing a recipient leaves no
readable address and the opt-out still matches. Changing NOTIFIER_SECRET_KEY therefore makes
every stored opt-out stop matching: keep the key for the life of the database.

Every new opt-out is confirmed to the person on the channel it covers (template
``opt_out_confirmation``, informational, never suppressed). The confirmation is sent for the
first centre found of: the owner's stored recipient with that address; the ``center`` code of
the request; the latest message to that address; the centre whose SMS sender number an SMS
reply was sent to. With none of these (nobody ever wrote to that address) no confirmation is
sent, and the opt-out holds all the same. Repeating an opt-out that is already in force
confirms nothing again.

SMS replies ``수신거부``, ``거부`` or ``STOP`` (any case, full-width or spaced) opt the
sender out of everything (scope ``all``); no other keyword is recognised.

Unsubscribe links (``unsubscribe_url``) carry a token signed with ``itsdangerous``: channel,
address, scope and owner. It is signed, not encrypted: it shows the address to whoever holds
the link, which is the person it was sent to. Tokens never expire: an opt-out link must work
for as long as the message that carries it exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from itsdangerous import BadData, URLSafeSerializer
from pydantic import Field
from sqlalchemy import ColumnElement, Connection, and_, func, not_, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from notifier.consent import recipients
from notifier.consent.tables import opt_outs
from notifier.consent.tables import recipients as recipients_table
from notifier.context import Context
from notifier.domain.consent import consent_is_valid
from notifier.domain.display import format_datetime
from notifier.domain.phones import mask_email, mask_phone, parse_phone
from notifier.domain.status import Status
from notifier.errors import InvalidPhoneNumber
from notifier.messages import repository as message_repo
from notifier.messages.tables import messages
from notifier.responses import ResponseModel, Timestamp
from notifier.schemas import MessageIn
from notifier.webhooks import service as webhooks

log = logging.getLogger("notifier.suppression")

ADVERTISING = "advertising"
SCOPES = ("advertising", "all")
Source = Literal["api", "unsubscribe_link", "sms_reply", "call_center", "email_reply", "in_person", "written"]
SOURCES: tuple[str, ...] = get_args(Source)
CHANNELS = ("sms", "email")
OWN_CASE_PURPOSES = frozenset({"confirmation", "reminder", "change", "cancellation"})
CONFIRMATION_TEMPLATE = "opt_out_confirmation"
STOP_KEYWORDS = frozenset({"수신거부", "거부", "STOP"})
SCOPE_LABELS = {
    "ko": {"advertising": "광고성 정보", "all": "모든 알림"},
    "en": {"advertising": "advertising", "all": "all messages"},
}
TOKEN_SALT = "unsubscribe"  # noqa: S105 (a namespace for signatures, not a secret)
MAX_TOKEN_LENGTH = 1000
STORED_E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # how ``Phone.e164`` writes every number


# ---- addresses and rules --------------------------------------------------------------


def normalise_address(channel: str, address: str) -> str:
    """E.164 for a phone (raises InvalidPhoneNumber), lower case for an email."""
    if channel == "sms":
        return parse_phone(address).e164
    if channel == "email":
        return address.strip().lower()
    raise ValueError(f"unknown channel {channel!r}")


def address_hash(ctx: Context, channel: str, address: str) -> str:
    """HMAC-SHA256 of the normalised address, keyed by the secret key: what ``opt_outs`` stores."""
    return _hmac(ctx, normalise_address(channel, address))


def stored_address_hash(ctx: Context, channel: str, address: str) -> str:
    """``address_hash`` of the address a message row holds.

    Message rows keep phone numbers in E.164 already (every way a message is stored parses its
    number first), so such a number is hashed as it is: parsing every number of a campaign
    again at claim time would cost a worker more than anything else it does besides sending.
    """
    if channel == "sms" and STORED_E164.fullmatch(address):
        return _hmac(ctx, address)
    return address_hash(ctx, channel, address)


def _hmac(ctx: Context, normalised: str) -> str:
    return hmac.new(ctx.settings.secret_key.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def is_covered(
    scope: str, *, category: str, campaign: bool, purpose: str | None = None, template_key: str | None = None
) -> bool:
    """Tell whether an opt-out of ``scope`` forbids a message of this kind."""
    if category == ADVERTISING:
        return True
    if purpose in OWN_CASE_PURPOSES or template_key == CONFIRMATION_TEMPLATE:
        return False
    return scope == "all" and campaign


def _covered_clause(scope: str) -> ColumnElement[bool]:
    """``is_covered`` as SQL over the messages table (the two must agree)."""
    advertising = messages.c.category == ADVERTISING
    exempt = or_(
        messages.c.purpose.in_(sorted(OWN_CASE_PURPOSES)), messages.c.template_key == CONFIRMATION_TEMPLATE
    )
    if scope == ADVERTISING:
        return advertising
    return or_(advertising, and_(messages.c.campaign_id.is_not(None), not_(exempt)))


def _address_clause(channel: str, normalised: str) -> ColumnElement[bool]:
    if channel == "sms":
        return and_(messages.c.channel == "sms", messages.c.to_phone == normalised)
    return and_(messages.c.channel == "email", func.lower(messages.c.to_email) == normalised)


def _reason(scope: str, source: str) -> str:
    return f"recipient opted out ({scope}, via {source})"


def _reason_for(conn: Connection, digest: str, **kind: Any) -> str | None:
    return _first_reason(_opt_outs_of(conn, [digest]).get(digest, ()), **kind)


def _opt_outs_of(conn: Connection, digests: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """The (scope, source) of every opt-out of each address hash, oldest first: one query."""
    query = (
        select(opt_outs.c.address_hash, opt_outs.c.scope, opt_outs.c.source)
        .where(opt_outs.c.address_hash.in_(sorted(set(digests))))
        .order_by(opt_outs.c.created_at)
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for digest, scope, source in conn.execute(query):
        found.setdefault(digest, []).append((scope, source))
    return found


def _first_reason(opt_outs_of_address: Iterable[tuple[str, str]], **kind: Any) -> str | None:
    for scope, source in opt_outs_of_address:
        if is_covered(scope, **kind):
            return _reason(scope, source)
    return None


def suppression_reason(
    ctx: Context, conn: Connection, *, channel: str, address: str, category: str, campaign: bool
) -> str | None:
    """Why a message of this kind may not go to ``address`` (any spelling); None: it may be sent."""
    if not is_covered("all", category=category, campaign=campaign):
        return None  # no opt-out covers it, so skip the query
    return _reason_for(conn, address_hash(ctx, channel, address), category=category, campaign=campaign)


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
        address = row["to_phone"] if row["channel"] == "sms" else row["to_email"]
        if address and is_covered("all", **kind):
            covered[row["id"]] = (stored_address_hash(ctx, row["channel"], address), kind)
    if not covered:
        return {}
    found = _opt_outs_of(conn, (digest for digest, _ in covered.values()))
    verdicts = {}
    for message_id, (digest, kind) in covered.items():
        reason = _first_reason(found.get(digest, ()), **kind)
        if reason:
            verdicts[message_id] = (Status.SUPPRESSED, reason)
    return verdicts


def register(ctx: Context) -> None:
    """Add the opt-out claim check to ``ctx`` (called once, from ``services.setup.wire``)."""

    def check(
        conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime
    ) -> dict[str, tuple[Status, str]]:
        return claim_check(ctx, conn, rows, now)

    ctx.claim_checks.append(check)


# ---- consent -----------------------------------------------------------------------------


def advertising_consent_ok(
    ctx: Context,
    conn: Connection,
    *,
    owner: str,
    channel: str,
    phone: str | None,
    email: str | None,
    now: datetime,
) -> bool:
    """True only if a live recipient of ``owner`` with this address has valid advertising consent."""
    address = phone if channel == "sms" else email if channel == "email" else None
    return address is not None and _consent_ok(conn, owner, channel, address, f"{channel}_advertising", now)


def night_consent_ok(ctx: Context, conn: Connection, *, owner: str, phone: str | None, now: datetime) -> bool:
    """True only if a live recipient of ``owner`` with this phone gave valid night-time consent.

    Night consent comes on top of SMS advertising consent: callers check both.
    """
    return phone is not None and (owner, phone) in night_consent_holders(conn, [(owner, phone)], now)


def night_consent_holders(
    conn: Connection, addresses: Iterable[tuple[str, str]], now: datetime
) -> set[tuple[str, str]]:
    """The (owner, phone) pairs among ``addresses`` with valid night-time consent: one query."""
    return _consents_ok(conn, "sms", "night_advertising", addresses, now)


def _consent_ok(conn: Connection, owner: str, channel: str, address: str, kind: str, now: datetime) -> bool:
    return (owner, address) in _consents_ok(conn, channel, kind, [(owner, address)], now)


def _consents_ok(
    conn: Connection, channel: str, kind: str, addresses: Iterable[tuple[str, str]], now: datetime
) -> set[tuple[str, str]]:
    """The (owner, address) pairs whose live recipient has valid consent of ``kind``."""
    normalised: dict[tuple[str, str], tuple[str, str]] = {}
    for owner, address in addresses:
        try:
            normalised[owner, address] = (owner, normalise_address(channel, address))
        except InvalidPhoneNumber:
            continue
    if not normalised:
        return set()
    found = recipients.find_by_addresses(conn, channel=channel, addresses=set(normalised.values()))
    consenting = {
        (row["owner"], row["phone"] if channel == "sms" else row["email"])
        for row in found
        if consent_is_valid(recipients.consent_of(row, kind), now)
    }
    return {pair for pair, key in normalised.items() if key in consenting}


# ---- unsubscribe links ---------------------------------------------------------------------


@dataclass(frozen=True)
class UnsubscribeRequest:
    """What a valid unsubscribe token asks for."""

    channel: str
    address: str
    scope: str
    owner: str

    @property
    def masked_address(self) -> str:
        return mask_phone(self.address) if self.channel == "sms" else mask_email(self.address)


def _serializer(ctx: Context) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret_key, salt=TOKEN_SALT)


def unsubscribe_url(ctx: Context, owner: str, channel: str, address: str, scope: str = ADVERTISING) -> str:
    """The one-click unsubscribe link for ``address`` (email body and headers, SMS opt-out line)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    payload = {"c": channel, "a": normalise_address(channel, address), "s": scope, "o": owner}
    return f"{ctx.settings.public_url}/u/{_serializer(ctx).dumps(payload)}"


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """The RFC 8058 headers an advertising email carries."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def read_unsubscribe_token(ctx: Context, token: str) -> UnsubscribeRequest | None:
    """The request a token carries, or None if it is forged, damaged or malformed."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload = _serializer(ctx).loads(token)
    except BadData:
        return None
    if not isinstance(payload, dict) or set(payload) != {"c", "a", "s", "o"}:
        return None
    if payload["c"] not in CHANNELS or payload["s"] not in SCOPES:
        return None
    if not all(isinstance(payload[k], str) and payload[k] for k in ("a", "o")):
        return None
    return UnsubscribeRequest(payload["c"], payload["a"], payload["s"], payload["o"])


# ---- recording an opt-out ----------------------------------------------------------------


def is_stop_keyword(text: str) -> bool:
    """Tell whether an SMS reply asks to stop: 수신거부, 거부 or STOP, spacing and case ignored."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper() in STOP_KEYWORDS


def opt_out_by_reply(ctx: Context, sender: str, to: str, text: str) -> bool:
    """Opt ``sender`` out of everything if ``text`` is a stop keyword; returns whether it did."""
    if not is_stop_keyword(text):
        return False
    try:
        phone = parse_phone(sender).e164
    except InvalidPhoneNumber:
        log.warning("stop keyword from an unusable number", extra={"sender": mask_phone(sender)})
        return False
    record_opt_out(ctx, channel="sms", address=phone, scope="all", source="sms_reply", texted=to)
    return True


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
            in_force = _in_force(conn, digest, scope)
            row: dict[str, Any] = (
                dict(in_force)
                if in_force
                else {
                    "id": str(uuid.uuid4()),
                    "address_hash": digest,
                    "channel": channel,
                    "scope": scope,
                    "source": source,
                    "recorded_by": owner,
                    "created_at": now,
                }
            )
            if in_force is None:
                conn.execute(opt_outs.insert().values(row))
            suppressed = message_repo.transition_many(
                conn,
                and_(_address_clause(channel, normalised), _covered_clause(row["scope"])),
                Status.SUPPRESSED,
                now,
                detail=_reason(row["scope"], row["source"]),
            )
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
    masked = mask_phone(normalised) if channel == "sms" else mask_email(normalised)
    log.info("opt-out", extra={"address": masked, "scope": row["scope"], "suppressed": len(suppressed)})
    confirmation = _confirm(ctx, row, normalised, origin) if origin else None
    view = OptOut.model_validate(
        {
            "id": row["id"],
            "channel": channel,
            "address": masked,
            "scope": row["scope"],
            "source": row["source"],
            "created_at": row["created_at"],
            "suppressed_messages": len(suppressed),
            "confirmation_message_id": confirmation,
        }
    )
    return in_force is None, view.dump()


def _in_force(conn: Connection, digest: str, scope: str) -> RowMapping | None:
    """The earliest opt-out of this address that already covers ``scope``."""
    query = (
        select(opt_outs)
        .where(opt_outs.c.address_hash == digest, opt_outs.c.scope.in_({scope, "all"}))
        .order_by(opt_outs.c.created_at)
    )
    return conn.execute(query).mappings().first()


def _confirm(ctx: Context, opt_out: dict[str, Any], address: str, origin: recipients.Contact) -> str | None:
    """Queue the confirmation message; a failure is logged and never undoes the opt-out."""
    from notifier.messages.accept import accept_message

    channel = opt_out["channel"]
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
                "data": {
                    "opt_out": {
                        "scope_label": labels[opt_out["scope"]],
                        "when": format_datetime(opt_out["created_at"], origin.locale, origin.timezone),
                    }
                },
            }
        )
        _, message = accept_message(
            ctx, origin.owner, body, body.model_dump(mode="json"), idempotency_key=f"opt-out-{opt_out['id']}"
        )
    except Exception:  # a refused body, a database error, an intake timeout: the opt-out stands
        log.exception("could not confirm an opt-out", extra={"opt_out": opt_out["id"]})
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
    column = recipients_table.c.phone if channel == "sms" else recipients_table.c.email
    known = {
        r[0]: r[1]
        for r in conn.execute(
            select(recipients_table.c.owner, recipients_table.c.external_id).where(column == address)
        )
    }
    owners = set(known) | ({recorded_by} if recorded_by else set())
    if suppressed_ids:
        owners |= {
            r[0]
            for r in conn.execute(
                select(messages.c.owner).where(messages.c.id.in_(suppressed_ids)).distinct()
            )
        }
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
