"""campaigns

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import notifier.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _stamp(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, notifier.storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("template_key", sa.String(length=100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("center", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("opt_out_number", sa.String(length=20), nullable=True),
        sa.Column("rate_per_second", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        _stamp("send_at"),
        sa.Column("fanout_after", sa.Integer(), nullable=False),
        sa.Column("fanned_out", sa.Boolean(), nullable=False),
        _stamp("created_at", nullable=False),
        _stamp("updated_at", nullable=False),
        _stamp("started_at"),
        _stamp("finished_at"),
        _stamp("cancelled_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status", "send_at"])
    op.create_index("ix_campaigns_owner_created", "campaigns", ["owner", "created_at"])
    op.create_table(
        "campaign_recipients",
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("kr_class", sa.String(length=3), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("excluded", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "row_no", name=op.f("pk_campaign_recipients")),
        sa.UniqueConstraint("campaign_id", "address", name=op.f("uq_campaign_recipients_campaign_id")),
    )
    op.create_table(
        "campaign_rejections",
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_rejections_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "row_no", name=op.f("pk_campaign_rejections")),
    )
    # One message per address and campaign, however often the fan-out runs.
    campaign_message = sa.text("campaign_id IS NOT NULL")
    for name, column in (("uq_messages_campaign_phone", "to_phone"), ("uq_messages_campaign_email", "to_email")):
        op.create_index(
            name,
            "messages",
            ["campaign_id", column],
            unique=True,
            postgresql_where=campaign_message,
            sqlite_where=campaign_message,
        )


def downgrade() -> None:
    op.drop_index("uq_messages_campaign_email", table_name="messages")
    op.drop_index("uq_messages_campaign_phone", table_name="messages")
    op.drop_table("campaign_rejections")
    op.drop_table("campaign_recipients")
    op.drop_index("ix_campaigns_owner_created", table_name="campaigns")
    op.drop_index("ix_campaigns_status", table_name="campaigns")
    op.drop_table("campaigns")
