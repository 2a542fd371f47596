"""Attendance: appointment outcomes, report columns and reminder-plan experiments

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from notifier.storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

appointments = sa.table(
    "appointments",
    sa.column("id", sa.String),
    sa.column("channels", sa.JSON),
    sa.column("reminder_plan", sa.JSON),
    sa.column("starts_at", UTCDateTime(timezone=True)),
    sa.column("created_at", UTCDateTime(timezone=True)),
    sa.column("channels_key", sa.String),
    sa.column("lead_days", sa.Integer),
    sa.column("reminder_plan_name", sa.String),
)


def _plan_name(plan: list[dict[str, int]] | None) -> str:
    seconds = sorted({int(entry["offset_seconds"]) for entry in plan or []}, reverse=True)
    names = []
    for s in seconds:
        names.append(f"{s // 3600}h" if s % 3600 == 0 else f"{s // 60}m" if s % 60 == 0 else f"{s}s")
    return ",".join(names)


def upgrade() -> None:
    with op.batch_alter_table("appointments", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("channels_key", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("lead_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reminder_plan_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("experiment_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("experiment_arm", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("outcome_revision", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outcome_recorded_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outcome_hash", sa.String(length=64), nullable=True))
    # The report columns of appointments booked before them, computed as the code does.
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            appointments.c.id,
            appointments.c.channels,
            appointments.c.reminder_plan,
            appointments.c.starts_at,
            appointments.c.created_at,
        )
    ).fetchall()
    for row in rows:
        lead = max(0, (row.starts_at - row.created_at).days) if row.starts_at and row.created_at else None
        conn.execute(
            appointments.update()
            .where(appointments.c.id == row.id)
            .values(
                channels_key="+".join(sorted(row.channels or [])),
                lead_days=lead,
                reminder_plan_name=_plan_name(row.reminder_plan),
            )
        )
    op.create_index(
        "ix_appointments_report",
        "appointments",
        [
            "starts_at",
            "center_code",
            "kind",
            "channels_key",
            "outcome",
            "attendance",
            "reminder_plan_name",
            "lead_days",
        ],
        unique=False,
    )
    op.create_index(
        "ix_appointments_experiment", "appointments", ["experiment_id", "experiment_arm"], unique=False
    )
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("center_code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("arms", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    op.create_index("ix_experiments_center_starts", "experiments", ["center_code", "starts_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_experiments_center_starts", table_name="experiments")
    op.drop_table("experiments")
    op.drop_index("ix_appointments_experiment", table_name="appointments")
    op.drop_index("ix_appointments_report", table_name="appointments")
    with op.batch_alter_table("appointments", recreate="never") as batch_op:
        for name in (
            "outcome_hash",
            "outcome_version",
            "outcome_recorded_at",
            "outcome_revision",
            "outcome",
            "experiment_arm",
            "experiment_id",
            "reminder_plan_name",
            "lead_days",
            "channels_key",
        ):
            batch_op.drop_column(name)
