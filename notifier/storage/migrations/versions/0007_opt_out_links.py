"""opt_out_links: what an unsubscribe link's opaque token stands for

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import notifier.storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opt_out_links",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("center", sa.JSON(), nullable=True),
        sa.Column("created_at", notifier.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_opt_out_links")),
    )
    with op.batch_alter_table("opt_out_links", schema=None) as batch_op:
        batch_op.create_index("ix_opt_out_links_owner_address", ["owner", "address"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("opt_out_links", schema=None) as batch_op:
        batch_op.drop_index("ix_opt_out_links_owner_address")
    op.drop_table("opt_out_links")
