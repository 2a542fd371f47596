"""The scheduler's tick hook for the staff feature: forget what no longer counts (sign-in
failures older than the lock-out window, sessions idle past the timeout, reset links used or
expired), at most once per ``EVERY_SECONDS``."""

from __future__ import annotations

from sqlalchemy import delete, or_

from notifier.context import Context
from notifier.staff import lockout
from notifier.staff.tables import staff_reset_tokens, staff_sessions

EVERY_SECONDS = 600.0
_ROUND = "staff_housekeeping"


def forget_stale(ctx: Context) -> dict[str, int]:
    """The tick hook: delete stale failures, sessions and reset links."""
    if not ctx.pass_due(_ROUND):
        return {}
    ctx.rest(_ROUND, EVERY_SECONDS)
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        failures = lockout.forget_older(conn, now)
        sessions = conn.execute(
            delete(staff_sessions).where(
                staff_sessions.c.last_seen_at < now - ctx.settings.console_idle_timeout
            )
        ).rowcount
        links = conn.execute(
            delete(staff_reset_tokens).where(
                or_(staff_reset_tokens.c.used_at.is_not(None), staff_reset_tokens.c.expires_at < now)
            )
        ).rowcount
    counts = {"staff_login_failures": failures, "staff_sessions": sessions, "staff_reset_links": links}
    return {name: count for name, count in counts.items() if count}
