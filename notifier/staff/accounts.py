"""Staff accounts: who they are, their role and the centres they work for.

Roles: ``staff`` works for one or more centres, ``manager`` runs one centre (reads its audit
log, approves advertising campaigns), ``ministry`` sees every centre.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import Connection, select, update
from sqlalchemy.engine import RowMapping

from notifier.staff.tables import staff_accounts
from notifier.staff.words import Words


class Role(StrEnum):
    STAFF = "staff"
    MANAGER = "manager"
    MINISTRY = "ministry"


ROLE_LABELS = {
    Role.STAFF: {"ko": "센터 직원", "en": "Centre staff"},
    Role.MANAGER: {"ko": "센터 관리자", "en": "Centre manager"},
    Role.MINISTRY: {"ko": "고용노동부", "en": "Ministry"},
}


Field = Literal["email", "name", "role", "centers"]


class AccountRefused(ValueError):
    """An account that cannot be created as asked: ``words`` says why (``message`` in Korean),
    ``field`` which of what was asked it is about."""

    def __init__(self, words: Words, field: Field) -> None:
        super().__init__(words.ko)
        self.words = words
        self.message = words.ko
        self.field = field


@dataclass(frozen=True)
class StaffAccount:
    """A signed-in person (never carries the password hash)."""

    id: str
    email: str
    name: str
    role: Role
    centers: tuple[str, ...]

    @property
    def sees_every_center(self) -> bool:
        return self.role is Role.MINISTRY

    @property
    def reads_audit_log(self) -> bool:
        return self.role in (Role.MANAGER, Role.MINISTRY)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _account(row: RowMapping) -> StaffAccount:
    return StaffAccount(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        centers=tuple(row["centers"] or ()),
    )


def check_shape(role: str, centers: Iterable[str]) -> tuple[Role, tuple[str, ...]]:
    """The role and centres of a new account, or ``AccountRefused`` saying why not."""
    try:
        parsed = Role(role)
    except ValueError as exc:
        raise AccountRefused(
            Words(
                "역할은 센터 직원(staff), 센터 관리자(manager), 고용노동부(ministry) 중 하나여야 합니다.",
                "The role must be centre staff (staff), centre manager (manager) or the ministry (ministry).",
            ),
            "role",
        ) from exc
    codes = tuple(sorted(set(centers)))
    if parsed is Role.MINISTRY:
        return parsed, ()
    if not codes:
        raise AccountRefused(
            Words(
                "센터 직원과 센터 관리자 계정에는 센터가 하나 이상 필요합니다.",
                "A centre staff or centre manager account needs at least one centre.",
            ),
            "centers",
        )
    if parsed is Role.MANAGER and len(codes) != 1:
        raise AccountRefused(
            Words(
                "센터 관리자 계정은 센터 하나만 맡습니다.",
                "A centre manager account runs exactly one centre.",
            ),
            "centers",
        )
    return parsed, codes


def create(
    conn: Connection, email: str, name: str, role: str, centers: Iterable[str], now: datetime
) -> StaffAccount:
    """Create an account without a password (its first password is set through a reset link)."""
    parsed, codes = check_shape(role, centers)
    address = normalise_email(email)
    if "@" not in address or len(address) > 320:
        raise AccountRefused(
            Words("이메일 주소가 올바르지 않습니다.", "This is not a valid email address."), "email"
        )
    if not name.strip() or len(name) > 100:
        raise AccountRefused(
            Words("이름은 1자 이상 100자 이하여야 합니다.", "The name must be 1 to 100 characters long."),
            "name",
        )
    if find_by_email(conn, address) is not None:
        raise AccountRefused(
            Words("이미 같은 이메일의 계정이 있습니다.", "An account with this email already exists."),
            "email",
        )
    account_id = str(uuid.uuid4())
    conn.execute(
        staff_accounts.insert().values(
            id=account_id,
            email=address,
            name=name.strip(),
            role=parsed.value,
            centers=list(codes),
            password_hash=None,
            active=True,
            created_at=now,
            updated_at=now,
        )
    )
    return StaffAccount(account_id, address, name.strip(), parsed, codes)


def find_by_email(conn: Connection, email: str) -> StaffAccount | None:
    row = _row_by_email(conn, email)
    return _account(row) if row is not None else None


def _row_by_email(conn: Connection, email: str) -> RowMapping | None:
    query = select(staff_accounts).where(staff_accounts.c.email == normalise_email(email))
    return conn.execute(query).mappings().first()


def credentials(conn: Connection, email: str) -> tuple[StaffAccount, str | None] | None:
    """The active account for ``email`` and its password hash, for signing in."""
    row = _row_by_email(conn, email)
    if row is None or not row["active"]:
        return None
    return _account(row), row["password_hash"]


def get(conn: Connection, account_id: str) -> StaffAccount | None:
    """The active account ``account_id``."""
    query = select(staff_accounts).where(staff_accounts.c.id == account_id, staff_accounts.c.active)
    row = conn.execute(query).mappings().first()
    return _account(row) if row is not None else None


def listing(conn: Connection, centers: Iterable[str] | None) -> list[StaffAccount]:
    """Active accounts working for any of ``centers`` (None: every account), by email."""
    query = select(staff_accounts).where(staff_accounts.c.active).order_by(staff_accounts.c.email)
    found = [_account(row) for row in conn.execute(query).mappings()]
    if centers is None:
        return found
    wanted = set(centers)
    return [account for account in found if wanted & set(account.centers)]


def set_password_hash(conn: Connection, account_id: str, password_hash: str, now: datetime) -> None:
    conn.execute(
        update(staff_accounts)
        .where(staff_accounts.c.id == account_id)
        .values(password_hash=password_hash, updated_at=now)
    )
