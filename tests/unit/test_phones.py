"""Phone numbers: parsing to E.164, the mobile check, display, and masking in logs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.phones import (
    Phone,
    PhoneType,
    format_phone_kr,
    mask_email,
    mask_personal_data,
    mask_phone,
    parse_phone,
    require_mobile,
)
from notifier.errors import InvalidPhoneNumber, ValidationFailed

MOBILE_E164 = "+821012345678"


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "010-1234-5678",
        "01012345678",
        "010 1234 5678",
        "010.1234.5678",
        " 010-1234-5678 ",
        "+82 10-1234-5678",
        "+821012345678",
        "+82 010-1234-5678",
        "0082-10-1234-5678",
        "00821012345678",
        "0082 10 1234 5678",
        "001-82-10-1234-5678",
    ],
)
def test_every_accepted_format_of_a_mobile_number_is_stored_as_e164(raw: str) -> None:
    phone = parse_phone(raw)
    assert phone == Phone(MOBILE_E164, PhoneType.MOBILE)
    assert phone.is_mobile
    assert phone.national == "010-1234-5678"


@pytest.mark.parametrize("raw", ["010-123-4567", "0101234567", "+82 10-123-4567"])
def test_ten_digit_010_number_is_refused_although_phonenumbers_calls_it_valid(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="010 numbers have 8 digits after 010"):
        parse_phone(raw)


@pytest.mark.parametrize("raw", ["+989699", "+(989699", "+98 9699"])
def test_a_number_too_short_for_e164_is_refused_although_phonenumbers_calls_it_valid(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="too short"):
        parse_phone(raw)


def test_legacy_011_number_is_still_a_mobile() -> None:
    assert parse_phone("011-123-4567") == Phone("+82111234567", PhoneType.MOBILE)


def test_government_landline_is_a_fixed_line() -> None:
    phone = parse_phone("044-202-7369")
    assert phone == Phone("+82442027369", PhoneType.FIXED_LINE)
    assert not phone.is_mobile
    assert phone.national == "044-202-7369"


@pytest.mark.parametrize("raw", ["070-1234-5678", "080-123-4567", "1588-1234"])
def test_internet_toll_free_and_business_numbers_are_other(raw: str) -> None:
    assert parse_phone(raw).type is PhoneType.OTHER


def test_us_number_that_may_be_mobile_counts_as_mobile() -> None:
    # phonenumbers says FIXED_LINE_OR_MOBILE for NANP; we let SMS try.
    assert parse_phone("+1 650 253 0000") == Phone("+16502530000", PhoneType.MOBILE)


def test_foreign_number_with_00_prefix_is_accepted() -> None:
    assert parse_phone("0044 7911 123456").e164 == "+447911123456"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not a phone number"),
        ("12345", "not a valid phone number"),
        ("010-1234-56789", "010 numbers have 8 digits"),
        ("+999 1234 5678", "unknown country calling code"),
        ("0" * 100, "too long"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        parse_phone(raw)
    assert reason in caught.value.reason
    assert caught.value.raw == raw


def test_invalid_phone_is_a_422_validation_error() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_phone("abc")
    assert caught.value.status == 422


def test_phone_must_be_e164() -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        Phone("010-1234-5678", PhoneType.MOBILE)


# --- the mobile check ---------------------------------------------------------------------


def test_mobile_number_passes_the_sms_check() -> None:
    phone = parse_phone("010-1234-5678")
    assert require_mobile(phone) is phone


def test_landline_is_refused_for_sms_with_a_clear_reason() -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        require_mobile(parse_phone("044-202-7369"))
    assert caught.value.reason == "044-202-7369 is not a mobile number; SMS needs a mobile number"
    assert caught.value.status == 422


# --- display ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("+82416615676", "041-661-5676"),
        ("041-661-5676", "041-661-5676"),
        ("0546613396", "054-661-3396"),
        ("+8221234567", "02-123-4567"),
        ("0212345678", "02-1234-5678"),
        ("01012345678", "010-1234-5678"),
        (MOBILE_E164, "010-1234-5678"),
        ("0082-10-1234-5678", "010-1234-5678"),
        ("15881234", "1588-1234"),
        ("+16502530000", "+1 650-253-0000"),
    ],
)
def test_numbers_are_displayed_the_korean_way(value: str, shown: str) -> None:
    assert format_phone_kr(value) == shown


def test_displaying_a_non_number_is_refused() -> None:
    with pytest.raises(InvalidPhoneNumber):
        format_phone_kr("call us")


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "010-1234-5678",
        "01012345678",
        "010 1234 5678",
        MOBILE_E164,
        "+82 10-1234-5678",
        "+82 010-1234-5678",
        "0082-10-1234-5678",
    ],
)
def test_mobile_is_masked_keeping_prefix_and_last_four(value: str) -> None:
    assert mask_phone(value) == "010-****-5678"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("02-123-4567", "02-***-4567"),
        ("+82212345678", "02-****-5678"),
        ("044-202-7369", "044-***-7369"),
        ("1588-1234", "****-1234"),
        ("+447911123456", "+44-******-3456"),
        ("+1 650 253 0000", "+1-******-0000"),
    ],
)
def test_other_numbers_keep_area_or_country_code_and_last_four(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


def test_masking_never_reveals_a_short_or_strange_value() -> None:
    assert mask_phone("12345") == "*****"
    assert mask_phone("+999-1234-5678") == "+***-****-5678"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("hong@example.com", "h***@example.com"),
        ("a@example.com", "a***@example.com"),
        ("gil.dong+jobs@work.go.kr", "g***@work.go.kr"),
        ("@example.com", "***@example.com"),
        ("not-an-email", "***"),
    ],
)
def test_email_is_masked_keeping_first_character_and_domain(value: str, masked: str) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("sms to 010-1234-5678 queued", "sms to 010-****-5678 queued"),
        ("to=+821012345678 status=sent", "to=010-****-5678 status=sent"),
        ("연락처010-1234-5678번", "연락처010-****-5678번"),
        ("call (02) 123-4567.", "call 02-***-4567."),
        ('{"body": "연락처\\n01012345678"}', '{"body": "연락처\\n010-****-5678"}'),
        ("0082 10 1234 5678, +82 10 1234 5678", "010-****-5678, 010-****-5678"),
        ("uk +44 7911 123456 us +16502530000", "uk +44-******-3456 us +1-******-0000"),
        ("from hong@example.com to a.b@c.go.kr", "from h***@example.com to a***@c.go.kr"),
        (
            '{"phone": "01012345678", "email": "x@y.kr"}',
            '{"phone": "010-****-5678", "email": "x***@y.kr"}',
        ),
    ],
)
def test_personal_data_in_free_text_is_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "message 123e4567-e89b-12d3-a456-426614174000 sent",
        "uuid=00000000-0000-0000-0000-000000000000",
        "at 2025-12-03T14:00:00+09:00 and 2025-12-03T05:00:00.123456Z",
        "served 202 requests",
        "status 503",
        "twilio took 12.5ms",
        "took 0.01012345678s",
        "sid SM0123456789abcdef0123456789abcdef",
        "ts=20251203140000 count=1000000",
        "retry in 010 seconds",
        "version 1.0.1234.5678",
    ],
)
def test_ids_timestamps_and_numbers_are_not_mangled(text: str) -> None:
    assert mask_personal_data(text) == text


def test_masking_a_long_line_is_fast_enough_for_every_log_line() -> None:
    # Linear regexes: a pathological 200 kB line must not hang the logger.
    line = "+1 " * 30_000 + "a." * 50_000 + "@"
    assert mask_personal_data(line).endswith("@")


_REGIONAL_AREA_CODES = [31, 32, 33, 41, 42, 43, 44, 51, 52, 53, 54, 55, 61, 62, 63, 64]
_AREA = st.sampled_from(["010", "02", *(f"0{code}" for code in _REGIONAL_AREA_CODES)])
_FORMATS = [
    "{p}-{m}-{l}",
    "{p}{m}{l}",
    "{p} {m} {l}",
    "{p}.{m}.{l}",
    "+82 {q}-{m}-{l}",
    "+82-{q}-{m}-{l}",
    "+82{q}{m}{l}",
    "+82 {p}-{m}-{l}",
    "0082-{q}-{m}-{l}",
    "0082{q}{m}{l}",
    "0082 {q} {m} {l}",
]
_TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ 가나다한글:;,()[]=/_-'\"!?\n\t")), max_size=40)
_BEFORE = st.sampled_from([" ", ": ", "=", "(", "\n", "\\n", "\\t", "전화 ", "번호"])
_AFTER = st.sampled_from([" ", ", ", ")", ".", "\n", "\\n", "번", "입니다"])


@st.composite
def _phone_in_text(draw: st.DrawFn) -> tuple[str, str, str, str]:
    area = draw(_AREA)
    middle_length = 4 if area == "010" else draw(st.sampled_from([3, 4]))
    middle = draw(st.text(alphabet="0123456789", min_size=middle_length, max_size=middle_length))
    last = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    phone = draw(st.sampled_from(_FORMATS)).format(p=area, q=area[1:], m=middle, l=last)
    text = draw(_TEXT) + draw(_BEFORE) + phone + draw(_AFTER) + draw(_TEXT)
    return text, area, middle, last


@given(_phone_in_text())
def test_any_korean_number_in_any_accepted_format_is_masked_inside_text(
    case: tuple[str, str, str, str],
) -> None:
    text, area, middle, last = case
    masked = mask_personal_data(text)
    # The surrounding text has no digits, so only the area code and last four may remain.
    assert "".join(re.findall(r"[0-9]", masked)) == area + last
    assert f"{area}-{'*' * len(middle)}-{last}" in masked


@given(st.text(alphabet=st.sampled_from(list("abc 가나:.,-_T+0123456789")), max_size=60))
def test_masking_is_idempotent(text: str) -> None:
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once
