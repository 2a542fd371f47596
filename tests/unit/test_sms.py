"""SMS sizing: cp949 bytes and class for Korean carriers, encoding and segments for Twilio."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from notifier.domain.sms import (
    CP949_REPLACEMENTS,
    GSM7_BASIC,
    GSM7_EXTENDED,
    LMS_MAX_BYTES,
    SMS_MAX_BYTES,
    TWILIO_MAX_CHARS,
    Encoding,
    KrClass,
    Unencodable,
    apply_replacements,
    cp949_bytes,
    find_unencodable,
    kr_class,
    measure_sms,
    twilio_segments,
)

HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
GSM_BASIC_TEXT = st.text(alphabet=sorted(GSM7_BASIC), max_size=700)
GSM_TEXT = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENDED), max_size=700)
KOREAN_TEXT = st.text(alphabet=HANGUL, min_size=1, max_size=700)
MIXED_TEXT = st.text(alphabet=st.one_of(HANGUL, ASCII), max_size=1200)
ANY_CHAR = st.one_of(
    HANGUL,
    ASCII,
    st.sampled_from(sorted(GSM7_EXTENDED)),
    st.sampled_from(["😀", "–", "•", "₩", "\u00a0", "é", "€"]),
)
ANY_TEXT = st.text(alphabet=ANY_CHAR, max_size=400)


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _expected_segments(units: int, single: int, multi: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / multi)


# --- cp949 bytes --------------------------------------------------------------------------


@given(MIXED_TEXT)
def test_hangul_counts_two_bytes_and_ascii_one(text: str) -> None:
    hangul = sum(_is_hangul(c) for c in text)
    assert cp949_bytes(text) == 2 * hangul + (len(text) - hangul)


def test_rare_syllable_ddom_is_two_bytes_in_cp949_not_eight_as_in_euc_kr() -> None:
    assert len("똠".encode("euc_kr")) == 8  # the trap KOREA.md warns about
    assert cp949_bytes("똠") == 2
    assert find_unencodable("똠방각하") == []


@pytest.mark.parametrize("char", ["😀", "–", "•", "₩", "\u00a0"])
def test_unencodable_character_counts_one_byte_as_the_question_mark_it_becomes(
    char: str,
) -> None:
    assert cp949_bytes(f"가{char}a") == 2 + 1 + 1


# --- Korean class -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nbytes", "expected"),
    [
        (0, KrClass.SMS),
        (90, KrClass.SMS),
        (91, KrClass.LMS),
        (2000, KrClass.LMS),
        (2001, None),
    ],
)
def test_class_boundaries_are_90_and_2000_bytes(nbytes: int, expected: KrClass | None) -> None:
    assert kr_class(nbytes) is expected


def test_negative_byte_count_is_a_bug() -> None:
    with pytest.raises(ValueError, match="negative"):
        kr_class(-1)


@given(st.integers(min_value=0, max_value=10_000))
def test_class_follows_byte_limits(nbytes: int) -> None:
    expected = KrClass.SMS if nbytes <= SMS_MAX_BYTES else KrClass.LMS if nbytes <= LMS_MAX_BYTES else None
    assert kr_class(nbytes) is expected


@given(st.integers(min_value=0, max_value=1100), st.booleans())
def test_hangul_text_changes_class_exactly_at_the_byte_limits(syllables: int, extra: bool) -> None:
    text = "가" * syllables + ("a" if extra else "")
    size = measure_sms(text)
    assert size.cp949_bytes == 2 * syllables + extra
    assert size.kr_class is kr_class(size.cp949_bytes)


def test_45_syllables_are_an_sms_and_one_more_ascii_char_makes_an_lms() -> None:
    assert measure_sms("가" * 45).kr_class is KrClass.SMS
    assert measure_sms("가" * 45 + "a").kr_class is KrClass.LMS


def test_1000_syllables_are_an_lms_and_one_more_char_is_refused() -> None:
    assert measure_sms("가" * 1000).kr_class is KrClass.LMS
    too_big = measure_sms("가" * 1000 + "a")
    assert too_big.kr_class is None
    assert too_big.too_long


def test_body_over_twilio_character_limit_is_too_long_even_as_an_lms() -> None:
    size = measure_sms("a" * (TWILIO_MAX_CHARS + 1))
    assert size.kr_class is KrClass.LMS
    assert size.too_long
    assert not measure_sms("a" * TWILIO_MAX_CHARS).too_long


# --- Twilio encoding and segments ---------------------------------------------------------


def test_empty_text_is_gsm7_with_zero_segments_because_nothing_is_sent() -> None:
    assert twilio_segments("") == (Encoding.GSM7, 0)
    size = measure_sms("")
    assert (size.characters, size.cp949_bytes, size.kr_class, size.segments) == (
        0,
        0,
        KrClass.SMS,
        0,
    )


@given(GSM_TEXT)
def test_gsm_only_text_is_sent_as_gsm7(text: str) -> None:
    assert twilio_segments(text)[0] is Encoding.GSM7


@given(ANY_TEXT, ANY_CHAR)
def test_one_non_gsm_character_makes_the_whole_message_ucs2(text: str, char: str) -> None:
    body = text + char
    encoding, _ = twilio_segments(body)
    is_gsm = all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in body)
    assert encoding is (Encoding.GSM7 if is_gsm else Encoding.UCS2)


def test_korean_text_is_ucs2() -> None:
    assert twilio_segments("Hello 안녕") == (Encoding.UCS2, 1)


def test_backtick_is_not_gsm7() -> None:
    assert twilio_segments("a`b")[0] is Encoding.UCS2


@given(GSM_BASIC_TEXT)
def test_gsm7_basic_text_is_160_then_153_per_segment(text: str) -> None:
    assert twilio_segments(text) == (Encoding.GSM7, _expected_segments(len(text), 160, 153))


@given(KOREAN_TEXT, st.text(alphabet=ASCII, max_size=300))
def test_ucs2_text_is_70_then_67_per_segment(korean: str, ascii_text: str) -> None:
    text = korean + ascii_text
    assert twilio_segments(text) == (Encoding.UCS2, _expected_segments(len(text), 70, 67))


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("가" * 70, 1),
        ("가" * 71, 2),
        ("가" * 134, 2),
        ("가" * 135, 3),
    ],
)
def test_segment_boundaries(text: str, segments: int) -> None:
    assert twilio_segments(text)[1] == segments


@pytest.mark.parametrize("char", sorted(GSM7_EXTENDED))
def test_gsm7_extended_characters_count_two_septets(char: str) -> None:
    assert twilio_segments(char * 80) == (Encoding.GSM7, 1)
    assert twilio_segments(char * 81) == (Encoding.GSM7, 2)


def test_extended_character_is_not_split_across_segments() -> None:
    # 306 septets would fit two segments, but the escape pair cannot straddle the boundary.
    assert twilio_segments("a" * 152 + "€" + "a" * 152) == (Encoding.GSM7, 3)


def test_emoji_counts_two_utf16_units() -> None:
    assert twilio_segments("😀" * 35) == (Encoding.UCS2, 1)
    assert twilio_segments("😀" * 36) == (Encoding.UCS2, 2)


def test_surrogate_pair_is_not_split_across_segments() -> None:
    # 134 units would fit two segments, but the emoji cannot straddle the boundary.
    assert twilio_segments("a" * 66 + "😀" + "a" * 66) == (Encoding.UCS2, 3)


@given(ANY_TEXT, ANY_CHAR)
def test_adding_a_character_never_reduces_segments(text: str, char: str) -> None:
    assert twilio_segments(text + char)[1] >= twilio_segments(text)[1]


@given(ANY_TEXT)
def test_non_empty_text_needs_at_least_one_segment(text: str) -> None:
    assert (twilio_segments(text)[1] == 0) == (text == "")


# --- unencodable characters and replacements ----------------------------------------------


def test_unencodable_characters_are_reported_with_position_line_and_column() -> None:
    text = "안녕하세요\n행사 – 안내 😀"
    assert find_unencodable(text) == [
        Unencodable("–", 9, 2, 4),
        Unencodable("😀", 14, 2, 9),
    ]


def test_encodable_text_has_no_unencodable_characters() -> None:
    assert find_unencodable("서산고용복지+센터 041-661-5676 · … “안내” ×") == []


@pytest.mark.parametrize("char", sorted(CP949_REPLACEMENTS))
def test_every_replaced_character_is_really_unencodable(char: str) -> None:
    with pytest.raises(UnicodeEncodeError):
        char.encode("cp949")


@pytest.mark.parametrize("replacement", sorted(set(CP949_REPLACEMENTS.values())))
def test_every_replacement_is_encodable(replacement: str) -> None:
    replacement.encode("cp949")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00–12:00", "9:00-12:00"),
        ("A—B", "A-B"),
        ("• 상담", "· 상담"),
        ("₩10,000", "￦10,000"),
        ("서산\u00a0센터", "서산 센터"),
        ("확인\u200b", "확인"),
        ("✓ 이력서", "√ 이력서"),
    ],
)
def test_common_unencodable_characters_are_replaced(text: str, expected: str) -> None:
    assert apply_replacements(text) == expected
    assert find_unencodable(apply_replacements(text)) == []


@pytest.mark.parametrize("char", ["…", "·", "“", "”", "‘", "’", "€", "×", "™", "\u3000"])
def test_characters_cp949_can_encode_are_not_replaced(char: str) -> None:
    assert char not in CP949_REPLACEMENTS
    assert cp949_bytes(char) == 2


def test_emoji_has_no_replacement_and_stays_reported() -> None:
    assert apply_replacements("안내 😀") == "안내 😀"
    assert [u.char for u in measure_sms("안내 😀").unencodable] == ["😀"]


@given(MIXED_TEXT)
def test_replacements_leave_korean_and_ascii_text_alone(text: str) -> None:
    assert apply_replacements(text) == text


@given(st.text(st.one_of(HANGUL, st.sampled_from(sorted(CP949_REPLACEMENTS)), st.characters())))
def test_every_replacement_is_made_wherever_it_stands(text: str) -> None:
    # The search that skips texts without any of them must know every one of them.
    replaced = apply_replacements(text)
    assert not set(replaced) & set(CP949_REPLACEMENTS)
    assert replaced == "".join(CP949_REPLACEMENTS.get(char, char) for char in text)


# --- the summary an admin sees ------------------------------------------------------------


def test_measure_reports_class_bytes_encoding_and_segments() -> None:
    size = measure_sms("[서산고용복지+센터] 12월 3일(수) 오후 2시 상담 예약이 확정되었습니다.")
    assert size.encoding is Encoding.UCS2
    assert size.kr_class is KrClass.SMS
    assert size.segments == 1
    assert size.unencodable == ()
    assert not size.too_long


def test_summary_is_json_friendly() -> None:
    size = measure_sms("가–😀")
    data = size.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "characters": 3,
        "cp949_bytes": 4,
        "kr_class": "SMS",
        "encoding": "UCS-2",
        "segments": 1,
        "too_long": False,
        "unencodable": [
            {"char": "–", "position": 1, "line": 1, "column": 2},
            {"char": "😀", "position": 2, "line": 1, "column": 3},
        ],
    }


def test_summary_of_refused_body_has_no_class() -> None:
    assert measure_sms("가" * 1001).as_dict()["kr_class"] is None


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters=GSM7_BASIC), max_size=400))
def test_ucs2_segments_match_a_per_unit_count_with_or_without_astral_characters(text: str) -> None:
    assume(text and not all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text))
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    encoding, segments = twilio_segments(text)
    assert encoding is Encoding.UCS2
    if units <= 70:
        assert segments == 1
    elif all(ord(c) <= 0xFFFF for c in text):
        assert segments == math.ceil(units / 67)
    else:  # a surrogate pair is never split, so it may take one more segment than the units say
        assert math.ceil(units / 67) <= segments <= math.ceil(units / 66)
