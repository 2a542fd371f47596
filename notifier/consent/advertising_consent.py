"""Advertising and night-time consent checks (정보통신망법 제50조).

An advertising message goes only to a live recipient of the sending owner who gave (and, where
the law asks, reconfirmed) consent for that channel; an advertising SMS at night (21:00-08:00
Korea time) needs separate night-time consent on top. The rules of validity are pure
(``notifier.domain.consent``); this module finds the recipients they apply to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from notifier.consent import repository as consent_repo
from notifier.consent.addresses import normalise_address
from notifier.consent.recipients import consent_of
from notifier.context import Context
from notifier.domain.consent import consent_is_valid
from notifier.errors import InvalidPhoneNumber


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
    found = consent_repo.find_by_addresses(conn, channel=channel, addresses=set(normalised.values()))
    consenting = {
        (row["owner"], row["phone"] if channel == "sms" else row["email"])
        for row in found
        if consent_is_valid(consent_of(row, kind), now)
    }
    return {pair for pair, key in normalised.items() if key in consenting}
