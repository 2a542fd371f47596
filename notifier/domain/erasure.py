"""Who is being erased, and how to tell a stored value that names them.

Threat: a person's phone, email or name left in any table after ``DELETE /v1/recipients/{id}``
(개인정보 보호법 제21조: personal data no longer needed is destroyed). A phone is written many
ways (``+821012345678``, ``010-1234-5678``, ``01012345678``), so a text names the person when
its digits contain the phone's national significant number, whatever the separators. Matching
errs on the side of erasing: a string that merely contains the person's name is erased too.
Only the keyed hash of an opt-out survives (``consent.addresses``), so the opt-out still holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ERASED = "[erased]"
KOREA_PREFIX = "+82"
# A name shorter than this is too likely to occur inside other words to be searched for.
MIN_NAME_LENGTH = 2
_NOT_DIGIT = re.compile(r"\D")


@dataclass(frozen=True)
class Person:
    """The data by which an owner's stored rows name one person."""

    owner: str
    external_id: str
    phone: str | None  # E.164
    email: str | None  # lower case
    name: str | None

    @property
    def phone_digits(self) -> str | None:
        """The digits any spelling of the phone contains: its national significant number."""
        if not self.phone:
            return None
        if self.phone.startswith(KOREA_PREFIX):
            return self.phone[len(KOREA_PREFIX) :]
        return self.phone.lstrip("+")

    def is_named_in(self, text: str) -> bool:
        """Tell whether ``text`` holds this person's phone (any spelling), email or name."""
        digits = self.phone_digits
        if digits and digits in _NOT_DIGIT.sub("", text):
            return True
        if self.email and self.email in text.lower():
            return True
        return bool(self.name and len(self.name) >= MIN_NAME_LENGTH and self.name in text)


def scrub(value: Any, person: Person) -> Any:
    """Return ``value`` (JSON: dicts, lists, strings...) with every string naming ``person`` erased."""
    if isinstance(value, str):
        return ERASED if person.is_named_in(value) else value
    if isinstance(value, dict):
        return {key: scrub(item, person) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, person) for item in value]
    return value
