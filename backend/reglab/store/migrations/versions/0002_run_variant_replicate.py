"""runs know their variant and replicate (repeats)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("variant", sa.String(length=80), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("replicate", sa.Integer(), nullable=False, server_default="0")
        )
    # Runs stored before repeats existed were each the one replicate of their variant.
    op.execute("UPDATE run SET variant = name WHERE variant = ''")


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("replicate")
        batch_op.drop_column("variant")
