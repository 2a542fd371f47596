"""The audit log page: managers read their centre's entries, the ministry every entry.

Read-only: there is no route that changes or removes an entry.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from notifier.api.context import context
from notifier.console.pages import not_found, page
from notifier.console.session import current_staff, login_required
from notifier.staff import audit
from notifier.staff.scope import visible_centers

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@login_required
def index() -> Response:
    account = current_staff()
    if not account.reads_audit_log:
        raise not_found()
    before = request.args.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 19 else None
    with context().engine.connect() as conn:
        entries = audit.read(conn, visible_centers(account), before_id)
    more = entries[-1].id if len(entries) == audit.PAGE_SIZE else None
    return page("console/audit.html", entries=entries, more=more)
