"""Which centres a staff member may see: the one rule every console page applies.

Threat: a staff member reading or changing another centre's campaign, template, message or
appointment. An object of a centre the account does not work for is answered as if it did not
exist (404), so its existence is not revealed either.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from notifier.errors import NotFound
from notifier.staff.accounts import StaffAccount


def visible_centers(account: StaffAccount) -> frozenset[str] | None:
    """The centre codes ``account`` may see; None means every centre (ministry)."""
    return None if account.sees_every_center else frozenset(account.centers)


def may_see(account: StaffAccount, center_code: str | None) -> bool:
    """Whether ``account`` may see an object of ``center_code`` (None: no centre, ministry only)."""
    centers = visible_centers(account)
    return centers is None or (center_code is not None and center_code in centers)


def require_center(account: StaffAccount, center_code: str | None) -> None:
    """Raise ``NotFound`` unless ``account`` may see an object of ``center_code``."""
    if not may_see(account, center_code):
        raise NotFound("없는 항목입니다.")


def center_filter(account: StaffAccount, column: ColumnElement[str | None]) -> ColumnElement[bool]:
    """A WHERE clause keeping only the rows of ``account``'s centres in ``column``."""
    centers = visible_centers(account)
    if centers is None:
        return true()
    return column.in_(sorted(centers))
