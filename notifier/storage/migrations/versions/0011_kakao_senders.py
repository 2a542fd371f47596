"""Registered sender numbers per provider and the KakaoTalk channel of each centre;
which channel reached the person (``messages.delivered_via``); short links to people's pages

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import notifier.storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# All nullable: centres loaded before this revision have registered no number with any
# provider (a domestic gateway refuses them until ``notifier centers load`` records one), and
# messages sent before it do not know how they were delivered.


def upgrade() -> None:
    with op.batch_alter_table("centers", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("sender_numbers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("kakao_pf_id", sa.String(length=100), nullable=True))
    with op.batch_alter_table("messages", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("delivered_via", sa.String(length=10), nullable=True))
    op.create_table(
        "short_links",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("appointment_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", notifier.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("appointment_id"),
    )


def downgrade() -> None:
    op.drop_table("short_links")
    with op.batch_alter_table("messages", recreate="never") as batch_op:
        batch_op.drop_column("delivered_via")
    with op.batch_alter_table("centers", recreate="never") as batch_op:
        batch_op.drop_column("kakao_pf_id")
        batch_op.drop_column("sender_numbers")
