"""Advertising consent and the marking every advertising message must carry (정보통신망법 제50조).

Threat: an advertising message sent without valid consent, or without the exact ``(광고)``
marking, the sender's name and a free opt-out line, is a fine for the centre. So the checks
here are strict and small: look-alikes such as ``[광고]`` or ``(광 고)`` do not count, a
consent timestamp in the future does not count, and consent lapses after two years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The law asks for re-confirmation every 2 years; 730 days never exceeds 2 calendar years.
CONSENT_VALIDITY = timedelta(days=730)
ADVERTISING_PREFIX = "(광고)"


@dataclass(frozen=True)
class Consent:
    """When a recipient agreed to advertising on one channel, and last re-confirmed it."""

    given_at: datetime | None
    reconfirmed_at: datetime | None = None


def _require_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime; give it a time zone")


def consent_is_valid(consent: Consent | None, now: datetime) -> bool:
    """Tell whether ``consent`` allows advertising at ``now`` (given or re-confirmed < 2 years ago).

    A timestamp after ``now`` makes the record untrustworthy, so the consent does not count.
    """
    _require_aware("now", now)
    if consent is None:
        return False
    stamps = [t for t in (consent.given_at, consent.reconfirmed_at) if t is not None]
    if not stamps:
        return False
    for stamp in stamps:
        _require_aware("consent timestamp", stamp)
    if any(stamp > now for stamp in stamps):
        return False
    return now < max(stamps) + CONSENT_VALIDITY


def is_advertising_marked(text: str) -> bool:
    """Tell whether ``text`` starts with exactly '(광고)'."""
    return text.startswith(ADVERTISING_PREFIX)


def mark_advertising_sms(body: str, center_name: str, opt_out_line: str) -> str:
    """Return ``body`` as '(광고)<centre>' + body + opt-out line; marking twice changes nothing."""
    center_name, opt_out_line = center_name.strip(), opt_out_line.strip()
    if not center_name:
        raise ValueError("an advertising SMS must name its sender: center_name is empty")
    if not opt_out_line:
        raise ValueError("an advertising SMS must end with a free opt-out line: it is empty")
    rest = body.strip()
    # Strip an existing marking so the result is the same however often we mark.
    if rest.startswith(ADVERTISING_PREFIX):
        rest = rest.removeprefix(ADVERTISING_PREFIX).lstrip()
        after_name = rest.removeprefix(center_name)
        # Only a whole name counts: '(광고)센터장' is not centre '센터' marked already.
        if after_name != rest and (not after_name or after_name[0].isspace()):
            rest = after_name.lstrip()
    if rest.endswith(opt_out_line):
        rest = rest.removesuffix(opt_out_line).rstrip()
    lines = [ADVERTISING_PREFIX + center_name, rest, opt_out_line]
    return "\n".join(line for line in lines if line)


def mark_advertising_subject(subject: str) -> str:
    """Return ``subject`` starting with '(광고) '; marking twice changes nothing."""
    rest = subject.strip()
    if rest.startswith(ADVERTISING_PREFIX):
        rest = rest.removeprefix(ADVERTISING_PREFIX).lstrip()
    return f"{ADVERTISING_PREFIX} {rest}" if rest else ADVERTISING_PREFIX
