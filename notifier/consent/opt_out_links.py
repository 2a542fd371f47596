"""Opt-out links: the one-click unsubscribe link (RFC 8058) a campaign message carries.

Threat: a link is copied, forwarded, logged by mail gateways and link scanners, and kept in
browser histories. So a link (``opt_out_url``) carries no personal data: its token is opaque
and unguessable (``TOKEN_BYTES`` of an HMAC keyed by the secret key) and stands for a row of
``opt_out_links`` (owner, channel, normalised address, scope, sending centre). The same
person gets the same link from the same owner and centre, so the row is written once
(``INSERT ... ON CONFLICT DO NOTHING``), in the transaction that renders the message. A link
never expires: it must work for as long as the message that carries it exists. Erasing a
recipient deletes the owner's rows for that address, and their links then answer 404.

Links sent before these tokens existed were ``itsdangerous`` signatures of the address itself
(they contain a ``.``, an opaque token never does). They are still read, since the messages that
carry them are in people's inboxes and reading them costs nothing; none are made any more.
A token longer than ``MAX_TOKEN_LENGTH`` is not even checked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import Connection

from notifier.consent import recipients
from notifier.consent import repository as consent_repo
from notifier.consent.addresses import CHANNELS, normalise_address
from notifier.consent.coverage import ADVERTISING, SCOPES
from notifier.context import Context
from notifier.domain.phones import format_phone_kr, mask_email, mask_phone

TOKEN_BYTES = 20  # 160 bits
TOKEN_LENGTH = len(base64.urlsafe_b64encode(bytes(TOKEN_BYTES)).rstrip(b"="))
# Old links only: a namespace for their signatures, not a secret; changing it breaks them.
LEGACY_TOKEN_SALT = "unsubscribe"  # noqa: S105
MAX_TOKEN_LENGTH = 1000
_TOKEN_PURPOSE = b"opt-out-link"


@dataclass(frozen=True)
class OptOutRequest:
    """What a valid unsubscribe token asks for, and which centre sent the message carrying it."""

    channel: str
    address: str
    scope: str
    owner: str
    center_name: str = ""
    center_phone: str = ""  # as shown: 041-661-5676
    locale: str | None = None  # the language the owner writes to this address in, if known

    @property
    def masked_address(self) -> str:
        return mask_phone(self.address) if self.channel == "sms" else mask_email(self.address)


def opt_out_url(
    ctx: Context,
    owner: str,
    channel: str,
    address: str,
    scope: str = ADVERTISING,
    *,
    center: Mapping[str, str] | None = None,
    conn: Connection | None = None,
) -> str:
    """The one-click unsubscribe link for ``address``, stored on ``conn`` (or in its own transaction)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    normalised = normalise_address(channel, address)
    shown = {k: str(center[k]) for k in ("code", "name", "phone") if center and center.get(k)}
    token = _token(ctx, owner, channel, normalised, scope, shown)
    row = {
        "token": token,
        "owner": owner,
        "channel": channel,
        "address": normalised,
        "scope": scope,
        "center": shown or None,
        "created_at": ctx.clock(),
    }
    if conn is not None:
        consent_repo.store_opt_out_link(conn, **row)
    else:
        with ctx.engine.begin() as own:
            consent_repo.store_opt_out_link(own, **row)
    return link_for(ctx, token)


def link_for(ctx: Context, token: str) -> str:
    return f"{ctx.settings.public_url}/u/{token}"


def sample_opt_out_url(ctx: Context) -> str:
    """A link as long as a real one, for estimating a message's size without storing anything."""
    return link_for(ctx, "x" * TOKEN_LENGTH)


def _token(
    ctx: Context, owner: str, channel: str, address: str, scope: str, center: Mapping[str, str]
) -> str:
    """The same inputs give the same token: one row and one link per person, owner and centre."""
    fields = (owner, channel, address, scope, center.get("code", ""), center.get("name", ""))
    message = b"\0".join((_TOKEN_PURPOSE, *(field.encode() for field in fields)))
    digest = hmac.new(ctx.settings.secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).rstrip(b"=").decode()


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """The RFC 8058 headers a campaign email carries."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def read_opt_out_token(ctx: Context, token: str) -> OptOutRequest | None:
    """The request a token stands for, or None if it is unknown, forged, damaged or malformed."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    if "." in token:
        return _read_legacy_token(ctx, token)
    with ctx.engine.connect() as conn:
        row = consent_repo.find_opt_out_link(conn, token)
        if row is None:
            return None
        locale = recipients.locale_of(conn, row["channel"], row["address"], row["owner"])
    center = row["center"] or {}
    phone = center.get("phone", "")
    return OptOutRequest(
        row["channel"],
        row["address"],
        row["scope"],
        row["owner"],
        center_name=center.get("name", ""),
        center_phone=format_phone_kr(phone) if phone else "",
        locale=locale,
    )


def _read_legacy_token(ctx: Context, token: str) -> OptOutRequest | None:
    """Read a link sent before opaque tokens: a signed JSON of the address itself."""
    try:
        payload = URLSafeSerializer(ctx.settings.secret_key, salt=LEGACY_TOKEN_SALT).loads(token)
    except BadData:
        return None
    if not isinstance(payload, dict) or set(payload) != {"c", "a", "s", "o"}:
        return None
    if payload["c"] not in CHANNELS or payload["s"] not in SCOPES:
        return None
    if not all(isinstance(payload[k], str) and payload[k] for k in ("a", "o")):
        return None
    channel, address, owner = payload["c"], payload["a"], payload["o"]
    with ctx.engine.connect() as conn:  # the centre that wrote to this address last
        latest = consent_repo.latest_message_to(conn, channel, address, owner)
        locale = recipients.locale_of(conn, channel, address, owner)
    center = dict(latest["center"] or {}) if latest is not None else {}
    phone = center.get("phone", "")
    return OptOutRequest(
        channel,
        address,
        payload["s"],
        owner,
        center_name=center.get("name", ""),
        center_phone=format_phone_kr(phone) if phone else "",
        locale=locale,
    )
