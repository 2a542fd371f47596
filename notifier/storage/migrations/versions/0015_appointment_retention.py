"""When an appointment's contacts were blanked (``appointments.contacts_erased_at``), and the
index of appointments that still hold them, for the retention's scan

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import notifier.storage.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_KEPT = sa.text("contacts_erased_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("appointments", recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("contacts_erased_at", notifier.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_index(
        "ix_appointments_contacts_kept",
        "appointments",
        ["starts_at"],
        postgresql_where=_KEPT,
        sqlite_where=_KEPT,
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_contacts_kept", table_name="appointments")
    with op.batch_alter_table("appointments", recreate="never") as batch_op:
        batch_op.drop_column("contacts_erased_at")
