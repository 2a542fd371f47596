"""Signing in and out, and setting a password through a one-time reset link.

The use cases the console and the CLI call; each change is written to the audit log in the
same transaction.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from notifier.context import Context
from notifier.staff import accounts, audit, lockout, passwords, sessions
from notifier.staff.accounts import StaffAccount
from notifier.staff.tables import staff_reset_tokens
from notifier.staff.tokens import new_token, token_hash
from notifier.staff.words import Words

RESET_LINK_VALID = timedelta(hours=24)
BAD_CREDENTIALS = Words("이메일 또는 비밀번호가 맞지 않습니다.", "The email or password is incorrect.")
BAD_RESET_LINK = Words(
    "재설정 링크가 올바르지 않거나 만료되었거나 이미 사용되었습니다. 새 링크를 요청하세요.",
    "This link is not valid, has expired or was already used. Please ask for a new one.",
)
NO_SUCH_ACCOUNT = Words("그런 이메일의 계정이 없습니다.", "There is no account with that email.")


class SignInRefused(Exception):
    """Why a sign-in did not succeed (``words``; ``message`` in Korean); ``locked`` tells a
    lock-out from bad credentials."""

    def __init__(self, words: Words, locked: bool = False) -> None:
        super().__init__(words.ko)
        self.words = words
        self.message = words.ko
        self.locked = locked


class ResetRefused(Exception):
    """A reset link that cannot be used, or a password that may not be chosen (``words``;
    ``message`` in Korean)."""

    def __init__(self, words: Words) -> None:
        super().__init__(words.ko)
        self.words = words
        self.message = words.ko


def sign_in(ctx: Context, email: str, password: str, address: str) -> tuple[StaffAccount, str]:
    """Check the credentials under the lock-out rules; return the account and a session token."""
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        if not lockout.take_attempt(conn, email, address, now):
            minutes = int(lockout.WINDOW.total_seconds() // 60)
            raise SignInRefused(lockout.LOCKED_MESSAGE.filled(minutes=minutes), locked=True)
        found = accounts.credentials(conn, email)
    # The slow hash runs outside the transaction; an unknown email takes as long as a wrong password.
    # The attempt is already counted as a failure: a success clears it below.
    if found is None or not passwords.verify(found[1], password):
        raise SignInRefused(BAD_CREDENTIALS)
    account = found[0]
    with ctx.engine.begin() as conn:
        lockout.clear(conn, account.email)
        token = sessions.start(conn, account, address, now)
        audit.record(conn, account, "signed_in", "staff", account.id, now, address=address)
    return account, token


def sign_out(ctx: Context, token: str, account: StaffAccount, address: str) -> None:
    with ctx.engine.begin() as conn:
        sessions.end(conn, token)
        audit.record(conn, account, "signed_out", "staff", account.id, ctx.clock(), address=address)


def issue_reset_link(ctx: Context, email: str, actor: StaffAccount | None = None) -> str:
    """A one-time link that sets the account's password, valid for ``RESET_LINK_VALID``."""
    now = ctx.clock()
    token = new_token()
    with ctx.engine.begin() as conn:
        account = accounts.find_by_email(conn, email)
        if account is None:
            raise ResetRefused(NO_SUCH_ACCOUNT)
        conn.execute(
            staff_reset_tokens.insert().values(
                token_hash=token_hash(token),
                staff_id=account.id,
                created_at=now,
                expires_at=now + RESET_LINK_VALID,
            )
        )
        audit.record(conn, actor, "reset_link_issued", "staff", account.id, now, center_code=_home(account))
    return f"{ctx.settings.public_url}/console/reset/{token}"


def reset_link_valid(ctx: Context, token: str) -> bool:
    with ctx.engine.connect() as conn:
        return _live_reset(conn, token, ctx.clock()) is not None


def _live_reset(conn: object, token: str, now: object) -> str | None:
    query = select(staff_reset_tokens.c.staff_id).where(
        staff_reset_tokens.c.token_hash == token_hash(token),
        staff_reset_tokens.c.used_at.is_(None),
        staff_reset_tokens.c.expires_at > now,
    )
    return conn.execute(query).scalar()  # type: ignore[attr-defined, no-any-return]


def set_password(ctx: Context, token: str, password: str, address: str) -> StaffAccount:
    """Use a reset link once: set the password, end the account's sessions, clear its lock-out.

    A bad link is refused whatever the password; a good one with a weak password stays unused.
    """
    weakness = passwords.weakness(password)
    hashed = "" if weakness else passwords.hash_password(password)
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        used = conn.execute(
            update(staff_reset_tokens)
            .where(
                staff_reset_tokens.c.token_hash == token_hash(token),
                staff_reset_tokens.c.used_at.is_(None),
                staff_reset_tokens.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(staff_reset_tokens.c.staff_id)
        ).scalar()
        account = accounts.get(conn, used) if used else None
        if account is None:
            raise ResetRefused(BAD_RESET_LINK)
        if weakness:
            raise ResetRefused(weakness)  # the transaction rolls back: the link is not used
        accounts.set_password_hash(conn, account.id, hashed, now)
        sessions.end_all(conn, account.id)
        lockout.clear(conn, account.email)
        audit.record(
            conn,
            account,
            "password_set",
            "staff",
            account.id,
            now,
            address=address,
            center_code=_home(account),
        )
    return account


def create_account(
    ctx: Context, email: str, name: str, role: str, centers: list[str], actor: StaffAccount | None = None
) -> StaffAccount:
    """Create a staff account (no password yet: hand over a reset link)."""
    from notifier.centers import repository as center_repo

    now = ctx.clock()
    with ctx.engine.begin() as conn:
        unknown = [code for code in centers if center_repo.find(conn, code) is None]
        if unknown:
            codes = ", ".join(unknown)
            raise accounts.AccountRefused(
                Words(f"등록되지 않은 센터입니다: {codes}", f"Unknown centre: {codes}"), "centers"
            )
        account = accounts.create(conn, email, name, role, centers, now)
        audit.record(
            conn,
            actor,
            "staff_created",
            "staff",
            account.id,
            now,
            center_code=_home(account),
            detail=f"role={account.role.value} centers={','.join(account.centers)}",
        )
    return account


def _home(account: StaffAccount) -> str | None:
    """The centre an entry about ``account`` belongs to (its first), for the managers' view."""
    return account.centers[0] if account.centers else None
