"""The console home page's stored counts of closed days (message_day_counts) and the index of
failed messages by time (ix_messages_failed_created); audit entries by object (ix_audit_log_object)

Revision ID: 0014
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import notifier.storage.types

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_day_counts",
        sa.Column("center_code", sa.String(length=50), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("computed_at", notifier.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("center_code", "day", "channel"),
    )
    op.create_index(
        "ix_messages_failed_created",
        "messages",
        ["created_at", "center_code"],
        postgresql_include=["error_code", "error_reason"],
        postgresql_where=sa.text("status = 'failed'"),
        sqlite_where=sa.text("status = 'failed'"),
    )
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id", "action"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_object", table_name="audit_log")
    op.drop_index("ix_messages_failed_created", table_name="messages")
    op.drop_table("message_day_counts")
