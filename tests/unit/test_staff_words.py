"""The staff package's refusals carry Korean and English: ``message`` and ``str()`` stay the
Korean the CLI prints, ``words.en`` is what an English console page shows."""

from __future__ import annotations

import pytest

from notifier.staff import lockout, passwords, signin
from notifier.staff.accounts import AccountRefused, check_shape
from notifier.staff.words import Words


def test_filled_fills_both_languages() -> None:
    locked = lockout.LOCKED_MESSAGE.filled(minutes=15)
    assert locked.ko.startswith("로그인 시도가 너무 많아 잠시 잠겼습니다. 15분 뒤에")
    assert locked.en == (
        "Too many sign-in attempts: try again in 15 minutes, or ask your manager for a reset link."
    )


@pytest.mark.parametrize(
    ("password", "korean", "english"),
    [
        ("short", "비밀번호는 10자 이상이어야 합니다.", "The password must be at least 10 characters long."),
        ("x" * 201, "비밀번호는 200자 이하여야 합니다.", "The password must be at most 200 characters long."),
        (
            " padded password ",
            "비밀번호의 앞뒤에 공백을 넣을 수 없습니다.",
            "The password cannot begin or end with a space.",
        ),
    ],
)
def test_a_weak_password_is_refused_in_both_languages(password: str, korean: str, english: str) -> None:
    assert passwords.weakness(password) == Words(korean, english)
    assert passwords.weakness("a good new password") is None


def test_refusals_keep_their_korean_message() -> None:
    for refused in (
        signin.SignInRefused(signin.BAD_CREDENTIALS),
        signin.ResetRefused(signin.BAD_RESET_LINK),
        AccountRefused(
            Words("이메일 주소가 올바르지 않습니다.", "This is not a valid email address."), "email"
        ),
    ):
        assert refused.message == str(refused) == refused.words.ko
        assert refused.words.en and refused.words.en != refused.words.ko


def test_an_account_of_the_wrong_shape_is_refused_in_both_languages() -> None:
    with pytest.raises(AccountRefused) as refused:
        check_shape("manager", ["seosan", "gumi"])
    assert str(refused.value) == "센터 관리자 계정은 센터 하나만 맡습니다."
    assert refused.value.words.en == "A centre manager account runs exactly one centre."
    assert refused.value.field == "centers"
