"""The claim check of appointment messages: load what ``rules.still_true`` needs, then ask it.

One query (a shared lock on the appointments, so none changes while the claim commits) for
all rows, plus one per centre whose quiet hours a reminder must respect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from notifier.appointments import repository
from notifier.appointments.rules import AppointmentNow, LocalQuietHours, QueuedNotice, Verdict, still_true
from notifier.centers import service as centers
from notifier.context import Context


def check(
    ctx: Context, conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Verdict]:
    """The verdict for each queued appointment message that is no longer true (see ``rules.verdict``)."""
    notices = [
        QueuedNotice(row["id"], row["appointment_id"], row["appointment_revision"], row["purpose"])
        for row in rows
        if row["appointment_id"] is not None
    ]
    if not notices:
        return {}
    current = repository.current_revisions(conn, list({n.appointment_id for n in notices}))
    reminded = {n.appointment_id for n in notices if n.purpose == "reminder"}
    quiet: dict[str, LocalQuietHours | None] = {}
    for code in sorted({a.center_code for id_, a in current.items() if id_ in reminded}):
        center = centers.find(ctx, conn, code)
        quiet[code] = LocalQuietHours(center.timezone, center.quiet_hours) if center is not None else None
    appointments = {
        id_: AppointmentNow(a.revision, a.starts_at, quiet.get(a.center_code)) for id_, a in current.items()
    }
    return still_true(notices, appointments, now)
