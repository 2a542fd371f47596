"""messages.appointment_version is the appointment's revision: rename it appointment_revision

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# ``recreate="never"``: SQLite (3.25 and later) renames a column in place. Copying the table
# instead would drop ``messages``, and with foreign keys on that deletes its history rows.


def upgrade() -> None:
    with op.batch_alter_table("messages", recreate="never") as batch_op:
        batch_op.alter_column("appointment_version", new_column_name="appointment_revision")


def downgrade() -> None:
    with op.batch_alter_table("messages", recreate="never") as batch_op:
        batch_op.alter_column("appointment_revision", new_column_name="appointment_version")
