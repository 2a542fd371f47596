"""template_versions.saved_by: the name of the API key that saved the version

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Nullable: versions saved before this column existed do not know the key's name
# (``created_by`` still says whose it was).


def upgrade() -> None:
    with op.batch_alter_table("template_versions", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("saved_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("template_versions", recreate="never") as batch_op:
        batch_op.drop_column("saved_by")
