"""A client's recipients: contact details, tags and advertising consents, and their erasure.

Recipients belong to the owner of the API key that stored them; no other owner can see them.
Phones are stored as E.164 mobile numbers and emails lower-cased, so a recipient is found by
the same spelling an opt-out is hashed from (``notifier.consent.opt_outs``).

Erasure (DELETE) empties every personal column (name, phone, email, locale, centre, tags,
consents) and keeps a tombstone of owner, external id and timestamps, so a second DELETE is
still a 204. External ids survive erasure: clients must not use personal data as ids. Opt-outs
are not recipient data: they are stored apart, as hashes, and keep blocking after erasure.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import Connection
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from notifier.centers import repository as center_repo
from notifier.centers import service as centers
from notifier.consent import repository as consent_repo
from notifier.consent.tables import CONSENT_KINDS
from notifier.context import Context
from notifier.domain.consent import Consent, consent_is_valid
from notifier.domain.erasure import Person
from notifier.domain.phones import parse_phone, require_mobile
from notifier.errors import FieldError, InvalidPhoneNumber, NotFound, ValidationFailed
from notifier.messages import repository as message_repo
from notifier.responses import ResponseModel, Timestamp
from notifier.schemas import CenterIn

log = logging.getLogger("notifier.recipients")

EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}")
CONSENT_COLUMNS = tuple(
    f"{kind}_{stamp}" for kind in CONSENT_KINDS for stamp in ("given_at", "reconfirmed_at")
)
# Who a message nobody asked for (an opt-out confirmation) is stored under, if no client wrote.
SYSTEM_OWNER = "notifier"
PERSONAL_COLUMNS = ("name", "phone", "email", "locale", "center", "tags", *CONSENT_COLUMNS)


@dataclass(frozen=True)
class RecipientData:
    """What a client says about one recipient (already shape-checked by the API)."""

    name: str
    phone: str | None
    email: str | None
    locale: str
    center: str | None
    tags: list[str]
    consents: Mapping[str, Consent | None]


def consent_of(row: Mapping[str, Any] | RowMapping, kind: str) -> Consent | None:
    """The recorded consent of ``kind`` ('sms_advertising', ...), or None."""
    given = row[f"{kind}_given_at"]
    return Consent(given, row[f"{kind}_reconfirmed_at"]) if given is not None else None


@dataclass(frozen=True)
class Contact:
    """Who writes to an address (owner, centre), and how the person is addressed."""

    owner: str
    center: dict[str, str]
    name: str
    locale: str
    timezone: ZoneInfo


def contact_for(
    ctx: Context,
    conn: Connection,
    channel: str,
    address: str,
    owner: str | None,
    center_code: str | None,
    texted: str | None,
) -> Contact | None:
    """Find who writes to a normalised address, for a message not asked for by a client.

    The centre is the first of: the owner's live recipient with that address; ``center_code``;
    the latest message to the address; the centre whose SMS sender is ``texted``. None if none.
    """
    person = (
        consent_repo.find_by_addresses(conn, channel=channel, addresses=[(owner, address)]) if owner else []
    )
    latest = consent_repo.latest_message_to(conn, channel, address, owner)
    code = next((p["center"] for p in person if p["center"]), None) or center_code
    center: dict[str, str] = {"code": code} if code else dict(latest["center"] or {}) if latest else {}
    if center.get("code"):  # a registered centre: its registration supplies the senders
        center = {"code": center["code"]}
    if not center and texted:
        found = center_repo.code_for_sms_sender(conn, texted)
        center = {"code": found} if found else {}
    if not center:
        return None
    registered = centers.find(ctx, conn, center["code"]) if center.get("code") else None
    known = person[0] if person else {}
    return Contact(
        owner=owner or (latest["owner"] if latest else SYSTEM_OWNER),
        center={k: str(v) for k, v in center.items() if k in CenterIn.model_fields and v},
        name=known.get("name") or (latest["to_name"] if latest else ""),
        locale=_locale(known, latest) or "ko",
        timezone=registered.timezone if registered else ctx.settings.timezone,
    )


def locale_of(conn: Connection, channel: str, address: str, owner: str) -> str | None:
    """The locale ``owner`` writes to a normalised address in (as ``contact_for`` finds it), if known."""
    person = consent_repo.find_by_addresses(conn, channel=channel, addresses=[(owner, address)])
    latest = consent_repo.latest_message_to(conn, channel, address, owner)
    return _locale(person[0] if person else {}, latest)


def _locale(known: Mapping[Any, Any], latest: Mapping[Any, Any] | None) -> str | None:
    """The stored recipient's locale, else that of the latest message to them."""
    return known.get("locale") or (latest["locale"] if latest else None)


def _check(ctx: Context, data: RecipientData, now: datetime) -> dict[str, Any]:
    """Return the columns to store, or raise one ValidationFailed naming every bad field."""
    errors: list[FieldError] = []
    phone = None
    if data.phone:
        try:
            phone = require_mobile(parse_phone(data.phone)).e164
        except InvalidPhoneNumber as exc:
            errors.append(FieldError("/phone", exc.reason))
    elif not data.email:
        errors.append(FieldError("", "give a mobile number, an email address or both"))
    if data.center:
        try:
            centers.get(ctx, data.center, "/center")
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    values: dict[str, Any] = {}
    for kind in CONSENT_KINDS:
        consent = data.consents.get(kind)
        given = consent.given_at if consent else None
        again = consent.reconfirmed_at if consent else None
        for stamp, moment in (("given_at", given), ("reconfirmed_at", again)):
            if moment is not None and moment > now:
                errors.append(FieldError(f"/consents/{kind}/{stamp}", "is in the future"))
        if given is not None and again is not None and again < given:
            errors.append(FieldError(f"/consents/{kind}/reconfirmed_at", "is before given_at"))
        values[f"{kind}_given_at"], values[f"{kind}_reconfirmed_at"] = given, again
    if errors:
        raise ValidationFailed(errors)
    return {
        **values,
        "name": data.name,
        "phone": phone,
        "email": data.email.lower() if data.email else None,
        "locale": data.locale,
        "center": data.center or None,
        "tags": list(dict.fromkeys(data.tags)),
    }


def put_recipient(
    ctx: Context, owner: str, external_id: str, data: RecipientData
) -> tuple[bool, dict[str, Any]]:
    """Create or replace a recipient; returns (created, view). An erased one is created anew."""
    if not EXTERNAL_ID.fullmatch(external_id):
        raise ValidationFailed(
            [FieldError("/external_id", "1 to 100 of A-Z a-z 0-9 . _ : - starting with a letter or digit")]
        )
    now = ctx.clock()
    values = _check(ctx, data, now)
    try:
        with ctx.engine.begin() as conn:
            found = consent_repo.find_recipient(conn, owner, external_id, lock=True)
            created = found is None or found["erased_at"] is not None
            stamps = {"updated_at": now, "erased_at": None}
            if found is None:
                consent_repo.insert_recipient(
                    conn, owner=owner, external_id=external_id, created_at=now, **stamps, **values
                )
            else:
                born = now if created else found["created_at"]
                consent_repo.update_recipient(conn, owner, external_id, created_at=born, **stamps, **values)
            row = consent_repo.find_recipient(conn, owner, external_id)
            assert row is not None
    except IntegrityError:
        # A concurrent PUT inserted the same id first; ours becomes a replacement.
        _, view = put_recipient(ctx, owner, external_id, data)
        return False, view
    return created, recipient_view(row, now)


def get_recipient(ctx: Context, owner: str, external_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = _live(conn, owner, external_id)
    return recipient_view(row, ctx.clock())


def erase_recipient(ctx: Context, owner: str, external_id: str) -> None:
    """Erase a recipient's personal data everywhere; erasing an erased recipient changes nothing.

    One transaction: the recipient becomes a tombstone, the owner's messages to them lose their
    addresses and content (pending ones are cancelled), and every feature's erase hook removes
    them from its tables (campaign lists, appointments, webhook payloads). Their opt-outs stay:
    stored only as keyed hashes, they name nobody and keep blocking.
    """
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        found = consent_repo.find_recipient(conn, owner, external_id, lock=True)
        if found is None:
            raise NotFound(f"no recipient {external_id}")
        if found["erased_at"] is None:
            person = Person(
                owner=owner,
                external_id=external_id,
                phone=found["phone"],
                email=found["email"].lower() if found["email"] else None,
                name=found["name"],
            )
            blank = dict.fromkeys(PERSONAL_COLUMNS)
            consent_repo.update_recipient(conn, owner, external_id, **blank, erased_at=now, updated_at=now)
            changed = message_repo.erase_recipient(conn, person, now)
            changed += consent_repo.delete_opt_out_links(conn, owner, (found["phone"], found["email"]))
            for hook in ctx.erase_hooks:
                changed += hook(conn, person, now)
            log.info("recipient erased", extra={"owner": owner, "rows_changed": changed})


def _live(conn: Connection, owner: str, external_id: str) -> RowMapping:
    row = consent_repo.find_recipient(conn, owner, external_id)
    if row is None or row["erased_at"] is not None:
        raise NotFound(f"no recipient {external_id}")
    return row


class ConsentView(ResponseModel):
    given_at: Timestamp | None
    reconfirmed_at: Timestamp | None


class Recipient(ResponseModel):
    external_id: str
    name: str
    phone: str | None = Field(description="E.164 mobile number")
    email: str | None = Field(description="lower-cased")
    locale: str
    center: str | None = Field(description="centre code")
    tags: list[str]
    consents: dict[str, ConsentView | None]
    consent_valid: dict[str, bool] = Field(
        description="computed now: given or re-confirmed less than 2 years ago"
    )
    created_at: Timestamp | None
    updated_at: Timestamp | None


def recipient_view(row: Mapping[str, Any] | RowMapping, now: datetime) -> dict[str, Any]:
    """The public JSON shape of a recipient; ``consent_valid`` is computed at ``now``."""
    consents = {kind: consent_of(row, kind) for kind in CONSENT_KINDS}
    return Recipient(
        external_id=row["external_id"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        locale=row["locale"],
        center=row["center"],
        tags=list(row["tags"] or []),
        consents={
            kind: ConsentView(given_at=c.given_at or None, reconfirmed_at=c.reconfirmed_at or None)
            if c
            else None
            for kind, c in consents.items()
        },
        consent_valid={kind: consent_is_valid(c, now) for kind, c in consents.items()},
        created_at=row["created_at"] or None,
        updated_at=row["updated_at"] or None,
    ).dump()
