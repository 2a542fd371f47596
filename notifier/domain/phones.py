"""Parse, classify, display and mask phone numbers; mask email addresses in free text.

Numbers are stored as E.164 (``+821012345678``). Parsing is delegated to ``phonenumbers``
with two Korean corrections: ``0082`` (how Koreans often write +82) is accepted although it
is not a real international access code, and ``010`` numbers with only 7 subscriber digits
are refused although the metadata still calls them valid (010 numbers have had 8 since 2004).

Masking runs on every log line, so it uses precompiled regular expressions and no parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import (
    NumberParseException,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
)

from notifier.errors import InvalidPhoneNumber

# Longer input is not a phone number; refusing it early keeps parsing cheap.
MAX_RAW_LENGTH = 64
_MASK = "*"
_KR_COUNTRY_CODE = 82
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Koreans write +82 as 0082; "00" alone is no access code in Korea (001, 002, 005... are).
_DOUBLE_ZERO = re.compile(r"^\s*00[\s.\-]*")
_NON_DIGITS = re.compile(r"[^0-9]")


class PhoneType(StrEnum):
    MOBILE = "mobile"
    FIXED_LINE = "fixed_line"
    OTHER = "other"


# FIXED_LINE_OR_MOBILE never occurs for Korea (the two ranges do not overlap); it does for
# the US and Canada, where a number may well be a mobile. We let those through to SMS.
_TYPES = {
    PhoneNumberType.MOBILE: PhoneType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: PhoneType.MOBILE,
    PhoneNumberType.FIXED_LINE: PhoneType.FIXED_LINE,
}

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short to be a phone number",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}


@dataclass(frozen=True)
class Phone:
    """A valid phone number in E.164 form, with its kind."""

    e164: str
    type: PhoneType

    def __post_init__(self) -> None:
        if not _E164.fullmatch(self.e164):
            raise ValueError(f"not an E.164 number: {self.e164!r}")

    @property
    def is_mobile(self) -> bool:
        return self.type is PhoneType.MOBILE

    @property
    def national(self) -> str:
        number = phonenumbers.parse(self.e164)
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber:
    """Parse like phonenumbers does, retrying a leading 00 as '+' when that fails."""
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        if not _DOUBLE_ZERO.match(raw):
            raise
        return phonenumbers.parse(_DOUBLE_ZERO.sub("+", raw, count=1), region)
    if not phonenumbers.is_valid_number(number) and _DOUBLE_ZERO.match(raw):
        try:
            return phonenumbers.parse(_DOUBLE_ZERO.sub("+", raw, count=1), region)
        except NumberParseException:
            return number
    return number


def _parse_failure(exc: NumberParseException) -> str:
    return _PARSE_REASONS.get(exc.error_type, "not a phone number")


def _invalid_reason(number: phonenumbers.PhoneNumber) -> str | None:
    nsn = phonenumbers.national_significant_number(number)
    if number.country_code == _KR_COUNTRY_CODE and nsn.startswith("10") and len(nsn) != 10:
        return "not a current mobile number: 010 numbers have 8 digits after 010"
    if phonenumbers.is_valid_number(number):
        return None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return "too short to be a phone number"
    if possible == ValidationResult.TOO_LONG:
        return "too long to be a phone number"
    return f"not a valid phone number for country code +{number.country_code}"


@lru_cache(maxsize=256)  # the numbers that recur are centres'; a bound that keeps memory flat
def parse_phone(raw: str, region: str = "KR") -> Phone:
    """Parse ``raw`` (national or international, any separators) into a valid ``Phone``.

    Memoised (a pure function of its arguments, and a ``Phone`` is frozen): a centre's numbers
    come with every message it sends. A refused number raises again each time.
    """
    if not raw.strip():
        raise InvalidPhoneNumber(raw, "phone number is empty")
    if len(raw) > MAX_RAW_LENGTH:
        raise InvalidPhoneNumber(raw, "too long to be a phone number")
    try:
        number = _parse(raw, region)
    except NumberParseException as exc:
        raise InvalidPhoneNumber(raw, _parse_failure(exc)) from exc
    reason = _invalid_reason(number)
    if reason is not None:
        raise InvalidPhoneNumber(raw, reason)
    kind = _TYPES.get(phonenumbers.number_type(number), PhoneType.OTHER)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if not _E164.fullmatch(e164):  # the metadata calls some short numbers valid ('+98 9699')
        raise InvalidPhoneNumber(raw, "too short to be a phone number")
    return Phone(e164, kind)


def require_mobile(phone: Phone) -> Phone:
    """Return ``phone`` if it can receive SMS, else raise ``InvalidPhoneNumber``."""
    if not phone.is_mobile:
        raise InvalidPhoneNumber(
            phone.e164, f"{phone.national} is not a mobile number; SMS needs a mobile number"
        )
    return phone


def _kr_groups(national: str) -> list[str]:
    """Split Korean national digits ('0' + NSN) into the groups Koreans write."""
    if national.startswith("02") and len(national) >= 9:
        return [national[:2], national[2:-4], national[-4:]]
    if national.startswith("0") and len(national) >= 10:
        return [national[:3], national[3:-4], national[-4:]]
    if len(national) > 4:
        return [national[:-4], national[-4:]]
    return [national]


@lru_cache(maxsize=1024)
def format_phone_kr(value: str) -> str:
    """Format a number for display: '010-1234-5678', '02-123-4567'; '+1 650-...' abroad."""
    try:
        number = _parse(value, "KR")
    except NumberParseException as exc:
        raise InvalidPhoneNumber(value, _parse_failure(exc)) from exc
    if number.country_code != _KR_COUNTRY_CODE:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    # Still show an invalid number the Korean way rather than as a run of digits.
    return "-".join(_kr_groups("0" + phonenumbers.national_significant_number(number)))


def _country_code_length(digits: str) -> int:
    # Country calling codes are prefix-free, so the first match is the only one.
    for length in (1, 2, 3):
        if int(digits[:length] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return length
    return 0


def _mask_digits_keep_last4(value: str) -> str:
    total = sum(c.isdigit() for c in value)
    seen, out = 0, []
    for c in value:
        if "0" <= c <= "9":
            seen += 1
            out.append(c if seen > total - 4 else _MASK)
        else:
            out.append(c)
    return "".join(out)


def mask_phone(value: str) -> str:
    """Mask a phone number for logs and lists: '010-****-5678'; '+44-****-3456' abroad."""
    stripped = value.strip()
    digits = _NON_DIGITS.sub("", stripped)
    if len(digits) < 7:
        return _MASK * len(digits) if digits else value
    international = stripped.startswith("+") or digits.startswith("00")
    if international:
        digits = digits[2:] if digits.startswith("00") else digits
        if digits.startswith("82"):
            rest = digits[2:]
            # '+82 010-...' repeats the trunk 0; keep just one.
            national = rest if rest.startswith("0") else "0" + rest
        else:
            cc_length = _country_code_length(digits)
            if not cc_length:
                return _mask_digits_keep_last4(stripped)
            masked = _MASK * (len(digits) - cc_length - 4)
            return f"+{digits[:cc_length]}-{masked}-{digits[-4:]}"
    else:
        national = digits
    groups = _kr_groups(national)
    if len(groups) >= 3:
        middle = [_MASK * len(g) for g in groups[1:-1]]
        return "-".join([groups[0], *middle, groups[-1]])
    return "-".join([_MASK * len(g) for g in groups[:-1]] + [groups[-1]])


def mask_email(value: str) -> str:
    """Mask an email address for logs and lists: 'h***@example.com'."""
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return _MASK * 3
    return f"{local[:1]}***@{domain}"


# Boundaries keep UUIDs, hex ids, decimals ("0.0101234567") and ISO timestamps intact: a
# number must not touch a letter, digit, '_', '-' or a decimal point. Hangul may touch it,
# and so may a JSON escape such as \n (log lines are JSON, so "\n010..." must be masked).
_BEFORE = r"(?:(?<=\\[nrt])|(?<![A-Za-z0-9_+\-]))(?<![0-9][.,])"
_AFTER = r"(?![A-Za-z0-9_])(?!-[0-9])(?![.,][0-9])"
_SEP = r"[-. ]?"
_KR_REST = r"(?:2|[1-9][0-9])\)?" + _SEP + r"[0-9]{3,4}" + _SEP + r"[0-9]{4}"
_PHONE = "|".join(
    [
        rf"(?:\+|00)82{_SEP}(?:\(0\)|0)?{_SEP}{_KR_REST}",  # +82 10-..., 0082-10-...
        rf"\(?0{_KR_REST}",  # 010-1234-5678, (02) 123-4567
        r"\+[1-9][0-9]{7,14}",  # E.164
        r"\+[1-9][0-9]{0,3}(?:[-. ]\(?[0-9]{1,8}\)?){2,6}",  # +1 650 253 0000
    ]
)
_EMAIL = r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_PERSONAL_DATA = re.compile(f"(?P<email>{_EMAIL})|{_BEFORE}(?P<phone>{_PHONE}){_AFTER}")
# Fewer digits than this is a count or a code, not a phone number.
_MIN_PHONE_DIGITS = 8


def _mask_match(match: re.Match[str]) -> str:
    email = match.group("email")
    if email is not None:
        return mask_email(email)
    phone = match.group("phone")
    if len(_NON_DIGITS.sub("", phone)) < _MIN_PHONE_DIGITS:
        return phone
    return mask_phone(phone)


def mask_personal_data(text: str) -> str:
    """Mask every phone number and email address in free text (log lines, notes)."""
    return _PERSONAL_DATA.sub(_mask_match, text)
