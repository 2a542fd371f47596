"""Tables of appointments and of the signed webhooks that tell booking systems what happened."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, UniqueConstraint, text

from notifier.storage.metadata import metadata
from notifier.storage.types import UTCDateTime

_CONTACTS_KEPT = text("contacts_erased_at IS NULL")

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("version", Integer),  # the booking system's monotonic number, if it sends one
    Column("revision", Integer, nullable=False),  # ours: +1 on every accepted change
    Column("request_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # booked | cancelled
    Column("recipient", JSON, nullable=False),
    Column("center_code", String(50), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("counselor", String(100), nullable=False),
    Column("location", String(300), nullable=False),
    Column("channels", JSON, nullable=False),
    Column("reminder_plan", JSON, nullable=False),
    Column("attendance", String(20)),  # None | confirmed | change_requested
    Column("attendance_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("cancelled_at", UTCDateTime()),
    # Attendance (notifier/attendance): what the reports group by, and the outcome.
    Column("channels_key", String(20)),  # sms | email | email+sms
    Column("lead_days", Integer),  # whole days from booking to start
    Column("reminder_plan_name", String(100)),  # e.g. 24h,2h
    Column("experiment_id", String(36)),
    Column("experiment_arm", String(100)),  # the arm's plan name
    Column("outcome", String(30)),  # attended | no_show | late_cancellation | rescheduled_by_person
    Column("outcome_revision", Integer),
    Column("outcome_recorded_at", UTCDateTime()),
    Column("outcome_version", Integer),
    Column("outcome_hash", String(64)),
    # When the person's name and contacts were blanked (retention or an erasure request).
    Column("contacts_erased_at", UTCDateTime()),
    UniqueConstraint("owner", "external_id", name="uq_appointments_owner_external_id"),
    Index("ix_appointments_center_starts", "center_code", "starts_at"),
    # The attendance report reads only these columns of a time range: an index-only scan
    # (weekday and hour are computed from starts_at).
    Index(
        "ix_appointments_report",
        "starts_at",
        "center_code",
        "kind",
        "channels_key",
        "outcome",
        "attendance",
        "reminder_plan_name",
        "lead_days",
    ),
    Index("ix_appointments_experiment", "experiment_id", "experiment_arm"),
    # Retention's scan: only appointments that still hold a person's contacts.
    Index(
        "ix_appointments_contacts_kept",
        "starts_at",
        postgresql_where=_CONTACTS_KEPT,
        sqlite_where=_CONTACTS_KEPT,
    ),
)


# The short path of a person's page (/s/{code}) that SMS carry: one per appointment, random,
# good for as long as the page is (until the appointment ends).
short_links = Table(
    "short_links",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("appointment_id", String(36), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)


# How far the message-event feed has been turned into ``message.status_changed`` webhooks.
