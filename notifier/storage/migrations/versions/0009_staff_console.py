"""The staff console: staff accounts, sessions, sign-in failures, reset links, the audit log;
api_keys.last_used_at; messages.center_code and the console's message indexes

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import notifier.storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC_DATETIME = notifier.storage.types.UTCDateTime(timezone=True)
MESSAGE_INDEXES = (
    ("ix_messages_center_created", ["center_code", "created_at", "id"]),
    ("ix_messages_created", ["created_at", "id"]),
    ("ix_messages_to_phone", ["to_phone", "created_at"]),
)


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("centers", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_accounts_email")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_accounts.id"],
            name=op.f("fk_staff_sessions_staff_id_staff_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index("ix_staff_sessions_staff_id", "staff_sessions", ["staff_id"])
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failures")),
    )
    op.create_index("ix_staff_login_failures_email", "staff_login_failures", ["email", "at"])
    op.create_index("ix_staff_login_failures_address", "staff_login_failures", ["address", "at"])
    op.create_table(
        "staff_reset_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_accounts.id"],
            name=op.f("fk_staff_reset_tokens_staff_id_staff_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_reset_tokens")),
    )
    op.create_index("ix_staff_reset_tokens_staff_id", "staff_reset_tokens", ["staff_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=True),
        sa.Column("center_code", sa.String(length=50), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_center_code", "audit_log", ["center_code", "id"])
    with op.batch_alter_table("api_keys", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("last_used_at", UTC_DATETIME, nullable=True))
    with op.batch_alter_table("messages", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("center_code", sa.String(length=50), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE messages SET center_code = center::jsonb ->> 'code' WHERE center_code IS NULL")
    else:
        op.execute("UPDATE messages SET center_code = json_extract(center, '$.code') WHERE center_code IS NULL")
    for name, columns in MESSAGE_INDEXES:
        op.create_index(name, "messages", columns)
    op.create_index("ix_messages_to_email_lower", "messages", [sa.text("lower(to_email)"), "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_to_email_lower", table_name="messages")
    for name, _ in MESSAGE_INDEXES:
        op.drop_index(name, table_name="messages")
    with op.batch_alter_table("messages", recreate="never") as batch_op:
        batch_op.drop_column("center_code")
    with op.batch_alter_table("api_keys", recreate="never") as batch_op:
        batch_op.drop_column("last_used_at")
    op.drop_table("audit_log")
    op.drop_table("staff_reset_tokens")
    op.drop_table("staff_login_failures")
    op.drop_table("staff_sessions")
    op.drop_table("staff_accounts")
