"""The SQL of the appointments feature: appointments read and written, their pending messages cancelled.

Use cases hold the transaction (``conn``) and decide; this module only reads and writes.
A status change is one conditional UPDATE whose WHERE lists the statuses it may come from
(``status.sources_of``), so the transition table is enforced by the statement itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Text, and_, cast, func, or_, select, update
from sqlalchemy.engine import RowMapping

from notifier.appointments.appointment import SHOWN_FIELDS, Appointment
from notifier.appointments.tables import appointments
from notifier.domain.appointment_status import OPEN, AppointmentStatus, check_move, sources_of
from notifier.domain.erasure import Person, scrub
from notifier.domain.message_status import PENDING, Status
from notifier.errors import InvalidTransition
from notifier.messages import repository as message_repo
from notifier.messages.tables import messages

# What an accepted change by the booking system writes.
CHANGED_COLUMNS = (
    *SHOWN_FIELDS,
    "center_code",
    "version",
    "revision",
    "request_hash",
    "updated_at",
    "attendance",
    "attendance_at",
    "channels_key",
    "lead_days",
)
# Derived from the fields, stored for the attendance reports' GROUP BY.
DERIVED_COLUMNS = ("channels_key", "lead_days")
OUTCOME_COLUMNS = (
    "outcome",
    "outcome_revision",
    "outcome_recorded_at",
    "outcome_version",
    "outcome_hash",
    "updated_at",
)


@dataclass(frozen=True)
class CurrentRevision:
    """What the claim check reads of an appointment."""

    revision: int
    starts_at: datetime
    center_code: str


def _appointment(row: RowMapping) -> Appointment:
    values = {f.name: row[f.name] for f in fields(Appointment)}
    return Appointment(**{**values, "status": AppointmentStatus(row["status"])})


def _columns(appointment: Appointment, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(appointment, name) for name in names}


def _by_owner(owner: str, external_id: str) -> Select[Any]:
    return select(appointments).where(
        appointments.c.owner == owner, appointments.c.external_id == external_id
    )


def lock(conn: Connection, owner: str, external_id: str) -> Appointment | None:
    """Read the appointment and lock its row until the transaction ends."""
    row = conn.execute(_by_owner(owner, external_id).with_for_update()).mappings().first()
    return _appointment(row) if row is not None else None


def get(conn: Connection, appointment_id: str) -> Appointment | None:
    row = conn.execute(select(appointments).where(appointments.c.id == appointment_id)).mappings().first()
    return _appointment(row) if row is not None else None


def insert(conn: Connection, appointment: Appointment) -> None:
    """Store a new appointment (booked, revision 1)."""
    names = [*(f.name for f in fields(Appointment)), *DERIVED_COLUMNS]
    conn.execute(appointments.insert().values(**_columns(appointment, names)))


def save_change(conn: Connection, changed: Appointment) -> None:
    """Write an accepted change; the appointment must still be open (its status does not move)."""
    result = conn.execute(
        update(appointments)
        .where(appointments.c.id == changed.id, appointments.c.status.in_([s.value for s in OPEN]))
        .values(**_columns(changed, CHANGED_COLUMNS), contacts_erased_at=None)  # contacts given again
    )
    if result.rowcount != 1:
        raise InvalidTransition(f"appointment {changed.id} is not open; it cannot change")


def save_reminder_plan(conn: Connection, appointment_id: str, plan: list[dict[str, Any]], name: str) -> None:
    conn.execute(
        update(appointments)
        .where(appointments.c.id == appointment_id)
        .values(reminder_plan=plan, reminder_plan_name=name)
    )


def save_outcome(conn: Connection, recorded: Appointment) -> None:
    """Write the appointment's outcome (the caller holds the row lock and has checked the rules)."""
    conn.execute(
        update(appointments)
        .where(appointments.c.id == recorded.id)
        .values(**_columns(recorded, OUTCOME_COLUMNS))
    )


def cancel(conn: Connection, appointment: Appointment, now: datetime) -> Appointment:
    """Move the appointment to cancelled, one revision on; raise ``InvalidTransition`` if it may not."""
    check_move(appointment.status, AppointmentStatus.CANCELLED)
    cancelled = replace(
        appointment,
        status=AppointmentStatus.CANCELLED,
        revision=appointment.revision + 1,
        cancelled_at=now,
        updated_at=now,
    )
    allowed = [s.value for s in sources_of(AppointmentStatus.CANCELLED)]
    result = conn.execute(
        update(appointments)
        .where(appointments.c.id == appointment.id, appointments.c.status.in_(allowed))
        .values(**_columns(cancelled, ("status", "revision", "cancelled_at", "updated_at")))
    )
    if result.rowcount != 1:
        raise InvalidTransition(f"appointment {appointment.id} is no longer {appointment.status.value}")
    return cancelled


def record_attendance(conn: Connection, appointment_id: str, attendance: str, now: datetime) -> bool:
    """Store the person's answer; False (nothing written) unless the appointment is open."""
    result = conn.execute(
        update(appointments)
        .where(appointments.c.id == appointment_id, appointments.c.status.in_([s.value for s in OPEN]))
        .values(attendance=attendance, attendance_at=now)
    )
    return result.rowcount == 1


def cancel_pending_messages(conn: Connection, appointment_id: str, now: datetime, detail: str) -> list[str]:
    """Cancel every message of the appointment not yet handed to a provider; return their purposes."""
    pending = and_(
        messages.c.appointment_id == appointment_id, messages.c.status.in_([s.value for s in PENDING])
    )
    purposes = [r[0] for r in conn.execute(select(messages.c.purpose).where(pending))]
    message_repo.transition_many(conn, pending, Status.CANCELLED, now, detail=detail)
    return purposes


def current_revisions(conn: Connection, appointment_ids: Sequence[str]) -> dict[str, CurrentRevision]:
    """Read the appointments under a shared lock, so none changes while the caller's claim commits."""
    query = select(
        appointments.c.id, appointments.c.revision, appointments.c.starts_at, appointments.c.center_code
    ).where(appointments.c.id.in_(sorted(appointment_ids)))
    return {
        row["id"]: CurrentRevision(row["revision"], row["starts_at"], row["center_code"])
        for row in conn.execute(query.with_for_update(read=True)).mappings()
    }


# Rows for the public view (``views.view``), which reads them as mappings.


def row(conn: Connection, appointment_id: str) -> RowMapping:
    return conn.execute(select(appointments).where(appointments.c.id == appointment_id)).mappings().one()


def find_row(conn: Connection, owner: str, external_id: str) -> RowMapping | None:
    return conn.execute(_by_owner(owner, external_id)).mappings().first()


def listing_query(
    owner: str, center: str | None, start: datetime | None, end: datetime | None, limit: int
) -> Select[Any]:
    """The owner's appointments, optionally of one centre and starting in [start, end), by start."""
    query = select(appointments).where(appointments.c.owner == owner)
    if center:
        query = query.where(appointments.c.center_code == center)
    if start:
        query = query.where(appointments.c.starts_at >= start)
    if end:
        query = query.where(appointments.c.starts_at < end)
    return query.order_by(appointments.c.starts_at, appointments.c.id).limit(limit)


def erase_person(conn: Connection, person: Person, now: datetime) -> int:
    """Blank the person's contact details on the owner's appointments; return how many changed.

    The appointment itself stays (times, centre, status: the centre's own record), but nobody
    can be reached or named through it any more. Its pending notices were cancelled with the
    person's messages.
    """
    recipient = appointments.c.recipient
    # The booking's contacts are stored as the client wrote them (any spelling of the phone):
    # narrow down in SQL, decide on each row.
    fragments = [f for f in (person.phone and person.phone[-4:], person.email) if f]
    theirs = [recipient["external_id"].as_string() == person.external_id]
    theirs += [func.lower(cast(recipient, Text)).contains(f) for f in fragments]
    query = select(appointments.c.id, recipient).where(appointments.c.owner == person.owner, or_(*theirs))
    changed = 0
    for row in conn.execute(query).mappings():
        given = row["recipient"]
        named = given.get("external_id") == person.external_id or any(
            person.is_named_in(str(given.get(key) or "")) for key in ("phone", "email")
        )
        if not named:
            continue
        conn.execute(
            update(appointments)
            .where(appointments.c.id == row["id"])
            .values(recipient=scrub(_without_contacts(given), person), updated_at=now, contacts_erased_at=now)
        )
        changed += 1
    return changed


def blank_contacts_before(conn: Connection, cutoff: datetime, limit: int, now: datetime) -> list[str]:
    """Blank the contacts of up to ``limit`` appointments that started before ``cutoff``; return their ids.

    Rows another transaction holds are skipped (the next pass takes them); ``updated_at`` stays,
    since the booking system changed nothing.
    """
    rows = conn.execute(
        select(appointments.c.id, appointments.c.recipient)
        .where(appointments.c.contacts_erased_at.is_(None), appointments.c.starts_at < cutoff)
        .order_by(appointments.c.starts_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for appointment_id, given in rows:
        conn.execute(
            update(appointments)
            .where(appointments.c.id == appointment_id)
            .values(recipient=_without_contacts(given), contacts_erased_at=now)
        )
    return [appointment_id for appointment_id, _ in rows]


def _without_contacts(recipient: dict[str, Any]) -> dict[str, Any]:
    """The recipient with nobody to name or reach: its external id and locale stay."""
    return {**recipient, "name": "", "phone": None, "email": None}
