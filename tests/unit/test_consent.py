"""Advertising consent (2-year validity) and the '(광고)' marking of advertising messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.consent import (
    ADVERTISING_PREFIX,
    CONSENT_VALIDITY,
    Consent,
    consent_is_valid,
    is_advertising_marked,
    mark_advertising_sms,
    mark_advertising_subject,
)

NOW = datetime(2025, 12, 3, 5, 0, tzinfo=UTC)
CENTRE = "서산고용복지+센터"
OPT_OUT = "무료수신거부 080-123-4567"


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# --- consent ------------------------------------------------------------------------------


def test_consent_lasts_two_years() -> None:
    assert timedelta(days=730) == CONSENT_VALIDITY


@pytest.mark.parametrize(
    ("consent", "valid"),
    [
        (None, False),
        (Consent(given_at=None), False),
        (Consent(given_at=days_ago(1)), True),
        (Consent(given_at=days_ago(729.99)), True),
        (Consent(given_at=days_ago(730)), False),
        (Consent(given_at=days_ago(731)), False),
        (Consent(given_at=days_ago(3 * 365), reconfirmed_at=days_ago(30)), True),
        (Consent(given_at=days_ago(3 * 365), reconfirmed_at=days_ago(731)), False),
        (Consent(given_at=None, reconfirmed_at=days_ago(10)), True),
        (Consent(given_at=days_ago(0)), True),
    ],
)
def test_consent_counts_only_within_two_years_of_the_latest_confirmation(
    consent: Consent | None, valid: bool
) -> None:
    assert consent_is_valid(consent, NOW) is valid


@pytest.mark.parametrize(
    "consent",
    [
        Consent(given_at=NOW + timedelta(seconds=1)),
        Consent(given_at=days_ago(10), reconfirmed_at=NOW + timedelta(days=1)),
    ],
)
def test_consent_stamped_in_the_future_does_not_count(consent: Consent) -> None:
    assert not consent_is_valid(consent, NOW)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        consent_is_valid(Consent(given_at=days_ago(1)), datetime(2025, 12, 3))
    with pytest.raises(ValueError, match="naive"):
        consent_is_valid(Consent(given_at=datetime(2025, 12, 1)), NOW)


# --- marking an SMS -----------------------------------------------------------------------


def test_advertising_sms_starts_with_marking_and_centre_and_ends_with_opt_out() -> None:
    marked = mark_advertising_sms("12월 취업박람회에 초대합니다.", CENTRE, OPT_OUT)
    assert marked == f"(광고){CENTRE}\n12월 취업박람회에 초대합니다.\n{OPT_OUT}"
    assert marked.startswith(ADVERTISING_PREFIX + CENTRE)
    assert marked.endswith(OPT_OUT)
    assert is_advertising_marked(marked)


def test_marking_a_marked_sms_again_changes_nothing() -> None:
    once = mark_advertising_sms("채용설명회 안내", CENTRE, OPT_OUT)
    assert mark_advertising_sms(once, CENTRE, OPT_OUT) == once


def test_hand_marked_sms_is_normalised_not_marked_twice() -> None:
    body = f"(광고) {CENTRE} 채용설명회 안내\n{OPT_OUT}"
    marked = mark_advertising_sms(body, CENTRE, OPT_OUT)
    assert marked == f"(광고){CENTRE}\n채용설명회 안내\n{OPT_OUT}"
    assert marked.count(ADVERTISING_PREFIX) == 1
    assert marked.count(OPT_OUT) == 1


def test_a_longer_name_after_the_marking_is_not_mistaken_for_the_centre() -> None:
    marked = mark_advertising_sms("(광고)센터장 인사말", "센터", OPT_OUT)
    assert marked == f"(광고)센터\n센터장 인사말\n{OPT_OUT}"


@pytest.mark.parametrize("look_alike", ["[광고]", "(광 고)", "（광고）", "<광고>", "광고"])
def test_look_alike_marking_is_not_a_marking(look_alike: str) -> None:
    body = f"{look_alike} 채용설명회 안내"
    assert not is_advertising_marked(body)
    assert mark_advertising_sms(body, CENTRE, OPT_OUT).startswith(f"(광고){CENTRE}\n{look_alike}")


def test_marking_must_be_at_the_very_start() -> None:
    assert not is_advertising_marked(" (광고) 안내")
    assert not is_advertising_marked("안내 (광고)")


@pytest.mark.parametrize(("centre", "opt_out"), [("", OPT_OUT), (" ", OPT_OUT), (CENTRE, "")])
def test_advertising_sms_needs_a_sender_name_and_an_opt_out_line(centre: str, opt_out: str) -> None:
    with pytest.raises(ValueError, match="must"):
        mark_advertising_sms("안내", centre, opt_out)


_TEXT = st.text(alphabet=st.sampled_from(list("(광고)[] \n가나센터abc0-9무료수신거부")), max_size=40)
_NAME = st.text(alphabet=st.sampled_from(list("가나센터abc+ ")), min_size=1, max_size=10).filter(str.strip)


@given(_TEXT, _NAME, _NAME)
def test_marking_an_sms_is_idempotent(body: str, centre: str, opt_out: str) -> None:
    once = mark_advertising_sms(body, centre, opt_out)
    assert mark_advertising_sms(once, centre, opt_out) == once
    assert once.startswith(ADVERTISING_PREFIX + centre.strip())
    assert once.endswith(opt_out.strip())


# --- marking an email subject -------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "marked"),
    [
        ("12월 채용설명회 안내", "(광고) 12월 채용설명회 안내"),
        ("(광고) 12월 채용설명회 안내", "(광고) 12월 채용설명회 안내"),
        ("(광고)12월 채용설명회 안내", "(광고) 12월 채용설명회 안내"),
        ("[광고] 안내", "(광고) [광고] 안내"),
        ("", "(광고)"),
    ],
)
def test_advertising_subject_starts_with_the_marking(subject: str, marked: str) -> None:
    assert mark_advertising_subject(subject) == marked


@given(_TEXT)
def test_marking_a_subject_is_idempotent(subject: str) -> None:
    once = mark_advertising_subject(subject)
    assert mark_advertising_subject(once) == once
    assert is_advertising_marked(once)
