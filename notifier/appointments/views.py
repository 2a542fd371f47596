"""The public JSON shape of an appointment, as the response models the API document shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection, select
from sqlalchemy.engine import RowMapping

from notifier.appointments.notices import page_url
from notifier.context import Context
from notifier.domain.message_status import Status
from notifier.messages.tables import messages
from notifier.responses import ResponseModel, Timestamp


class PlannedReminderView(ResponseModel):
    offset_seconds: int
    outcome: Literal[
        "scheduled", "moved_for_quiet_hours", "dropped_past", "dropped_quiet_hours", "dropped_too_close"
    ]
    send_at: str | None = Field(json_schema_extra={"format": "date-time"})
    note: str | None = None


class AppointmentMessage(ResponseModel):
    id: str
    purpose: Literal["confirmation", "reminder", "change", "cancellation"]
    channel: Literal["sms", "kakao", "email"]
    status: Status
    send_at: Timestamp | None


class OutcomeView(ResponseModel):
    """What happened at the appointment, for the revision it was recorded for."""

    outcome: Literal["attended", "no_show", "late_cancellation", "rescheduled_by_person"]
    revision: int
    recorded_at: Timestamp
    version: int | None


class ExperimentArmView(ResponseModel):
    experiment_id: str
    arm: str = Field(description="the arm's reminder plan, e.g. 24h,2h")


class Appointment(ResponseModel):
    """An appointment; ``messages`` only when one appointment is asked for."""

    id: str
    external_id: str
    status: Literal["booked", "cancelled"]
    version: int | None = Field(description="the booking system's version")
    revision: int = Field(description="ours: +1 on every accepted change")
    recipient: dict[str, Any]
    center: str
    kind: str
    starts_at: Timestamp
    ends_at: Timestamp
    duration_minutes: int
    counselor: str
    location: str
    channels: list[Literal["sms", "email"]]
    attendance: Literal["confirmed", "change_requested"] | None
    page_url: str = Field(description="the person's page: confirm or ask for a change")
    reminders: list[PlannedReminderView] = Field(
        description="the reminder plan, including reminders moved for quiet hours or dropped"
    )
    reminder_plan: str | None = Field(description="the named reminder plan it follows, e.g. 24h,2h")
    experiment: ExperimentArmView | None = Field(description="the experiment arm it was assigned, if any")
    outcome: OutcomeView | None = Field(description="what happened, once recorded")
    created_at: Timestamp
    updated_at: Timestamp
    messages: list[AppointmentMessage] = Field(default_factory=list)


class AppointmentList(ResponseModel):
    items: list[Appointment]


def view(
    ctx: Context, conn: Connection, row: RowMapping | dict[str, Any], with_messages: bool = True
) -> dict[str, Any]:
    """The public JSON shape of an appointment."""
    return view_model(ctx, conn, row, with_messages).dump()


def view_model(
    ctx: Context, conn: Connection, row: RowMapping | dict[str, Any], with_messages: bool = True
) -> Appointment:
    """The appointment as its response model; with its messages unless ``with_messages`` is False."""
    fields: dict[str, Any] = dict(
        id=row["id"],
        external_id=row["external_id"],
        status=row["status"],
        version=row["version"],
        revision=row["revision"],
        recipient=row["recipient"],
        center=row["center_code"],
        kind=row["kind"],
        starts_at=row["starts_at"],
        ends_at=row["starts_at"] + timedelta(minutes=row["duration_minutes"]),
        duration_minutes=row["duration_minutes"],
        counselor=row["counselor"],
        location=row["location"],
        channels=row["channels"],
        attendance=row["attendance"],
        page_url=page_url(ctx, row["id"]),
        reminders=row["reminder_plan"],
        reminder_plan=row["reminder_plan_name"],
        experiment=ExperimentArmView(experiment_id=row["experiment_id"], arm=row["experiment_arm"])
        if row["experiment_id"] and row["experiment_arm"]
        else None,
        outcome=OutcomeView(
            outcome=row["outcome"],
            revision=row["outcome_revision"],
            recorded_at=row["outcome_recorded_at"],
            version=row["outcome_version"],
        )
        if row["outcome"]
        else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
    if with_messages:
        query = (
            select(messages)
            .where(messages.c.appointment_id == row["id"])
            .order_by(messages.c.created_at, messages.c.send_at)
        )
        fields["messages"] = [
            AppointmentMessage(
                id=m["id"],
                purpose=m["purpose"],
                channel=m["channel"],
                status=m["status"],
                send_at=m["send_at"],
            )
            for m in conn.execute(query).mappings()
        ]
    return Appointment(**fields)
