"""Password hashing with Argon2id (argon2-cffi). A password is never stored or logged.

Threat: a stolen database must not yield passwords. Argon2id with the library's defaults
(RFC 9106 "low memory" profile) makes each guess cost memory and time.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from notifier.staff.words import Words

MIN_LENGTH = 10
MAX_LENGTH = 200  # hashing a megabyte-long "password" is a cheap way to burn our CPU

HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when there is no hash, so a wrong email costs as long as a wrong password."""
    return HASHER.hash("not the password of anyone")


def hash_password(password: str) -> str:
    """Hash ``password`` for storage."""
    return HASHER.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (None: no password set; still takes the time)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def weakness(password: str) -> Words | None:
    """Why ``password`` may not be chosen, or None."""
    if len(password) < MIN_LENGTH:
        return Words(
            f"비밀번호는 {MIN_LENGTH}자 이상이어야 합니다.",
            f"The password must be at least {MIN_LENGTH} characters long.",
        )
    if len(password) > MAX_LENGTH:
        return Words(
            f"비밀번호는 {MAX_LENGTH}자 이하여야 합니다.",
            f"The password must be at most {MAX_LENGTH} characters long.",
        )
    if password.strip() != password:
        return Words(
            "비밀번호의 앞뒤에 공백을 넣을 수 없습니다.", "The password cannot begin or end with a space."
        )
    return None
