"""Opt-out links: the one-click unsubscribe link (RFC 8058) an advertising message carries.

A link (``opt_out_url``) carries a token signed with ``itsdangerous``: channel, address,
scope and owner. It is signed, not encrypted: it shows the address to whoever holds the link,
which is the person it was sent to. Tokens never expire: an opt-out link must work for as
long as the message that carries it exists. A token longer than ``MAX_TOKEN_LENGTH`` is not
even checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer

from notifier.consent.addresses import CHANNELS, normalise_address
from notifier.consent.coverage import ADVERTISING, SCOPES
from notifier.context import Context
from notifier.domain.phones import mask_email, mask_phone

# A namespace for signatures, not a secret; changing it would break every link already sent.
TOKEN_SALT = "unsubscribe"  # noqa: S105
MAX_TOKEN_LENGTH = 1000


@dataclass(frozen=True)
class OptOutRequest:
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


def opt_out_url(ctx: Context, owner: str, channel: str, address: str, scope: str = ADVERTISING) -> str:
    """The one-click unsubscribe link for ``address`` (email body and headers, SMS opt-out line)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    payload = {"c": channel, "a": normalise_address(channel, address), "s": scope, "o": owner}
    return f"{ctx.settings.public_url}/u/{_serializer(ctx).dumps(payload)}"


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """The RFC 8058 headers an advertising email carries."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def read_opt_out_token(ctx: Context, token: str) -> OptOutRequest | None:
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
    return OptOutRequest(payload["c"], payload["a"], payload["s"], payload["o"])
