"""recipients

Revision ID: 0004
Revises: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

import notifier.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _stamp(name: str) -> "sa.Column[Any]":
    return sa.Column(name, notifier.storage.types.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("center", sa.String(length=50), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        _stamp("sms_advertising_given_at"),
        _stamp("sms_advertising_reconfirmed_at"),
        _stamp("email_advertising_given_at"),
        _stamp("email_advertising_reconfirmed_at"),
        _stamp("night_advertising_given_at"),
        _stamp("night_advertising_reconfirmed_at"),
        sa.Column("created_at", notifier.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", notifier.storage.types.UTCDateTime(timezone=True), nullable=False),
        _stamp("erased_at"),
        sa.PrimaryKeyConstraint("owner", "external_id", name=op.f("pk_recipients")),
    )
    with op.batch_alter_table("recipients", schema=None) as batch_op:
        batch_op.create_index("ix_recipients_owner_phone", ["owner", "phone"], unique=False)
        batch_op.create_index("ix_recipients_owner_email", ["owner", "email"], unique=False)
    op.create_table(
        "opt_outs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", notifier.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
        sa.UniqueConstraint("address_hash", "scope", name=op.f("uq_opt_outs_address_hash")),
    )


def downgrade() -> None:
    op.drop_table("opt_outs")
    with op.batch_alter_table("recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_recipients_owner_email")
        batch_op.drop_index("ix_recipients_owner_phone")
    op.drop_table("recipients")
