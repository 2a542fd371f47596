"""Addresses as the consent feature compares them: normalised, and hashed for opt-outs.

``opt_outs`` never holds an address, only HMAC-SHA256 (keyed by ``settings.secret_key``) of the
normalised address (E.164 phone, lower-cased email), so erasing a recipient leaves no readable
address and the opt-out still matches. Changing NOTIFIER_SECRET_KEY therefore makes every
stored opt-out stop matching: keep the key for the life of the database.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from notifier.context import Context
from notifier.domain.phones import parse_phone

CHANNELS = ("sms", "email")
STORED_E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # how ``Phone.e164`` writes every number


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
