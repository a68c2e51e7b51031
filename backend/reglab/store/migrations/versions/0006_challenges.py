"""challenges: a teacher's task above experiments, its entries and baselines tagged with it

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "challenge",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lesson", sa.String(length=80), nullable=True),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("open", sa.JSON(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("max_entries", sa.Integer(), nullable=False),
        sa.Column("max_epochs", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # Plain ADD COLUMN: a batch copy of `experiment` would drop it, and with foreign keys on,
    # that cascades to every run.
    op.add_column("experiment", sa.Column("challenge_id", sa.Integer(), nullable=True))
    op.add_column("experiment", sa.Column("challenge_role", sa.String(length=20), nullable=True))
    op.create_index("ix_experiment_challenge_id", "experiment", ["challenge_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_experiment_challenge_id", table_name="experiment")
    op.drop_column("experiment", "challenge_role")  # SQLite ≥ 3.35 drops a column in place
    op.drop_column("experiment", "challenge_id")
    op.drop_table("challenge")
