"""usage reports

Revision ID: 20261202_0017
Revises: 20261202_0016
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0017"
down_revision: str | None = "20261202_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_weekly_summaries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_weekly_summaries")),
        sa.UniqueConstraint(
            "child_id", "week_start", name=op.f("uq_usage_weekly_summaries_child_id")
        ),
    )
    with op.batch_alter_table("usage_weekly_summaries") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_weekly_summaries_week_start"), ["week_start"], unique=False
        )

    op.create_table(
        "usage_limit_reached",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_limit_reached")),
        sa.UniqueConstraint(
            "child_id", "day", "kind", "target", name=op.f("uq_usage_limit_reached_child_id")
        ),
    )
    with op.batch_alter_table("usage_limit_reached") as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_limit_reached_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("usage_limit_reached") as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_limit_reached_day"))
    op.drop_table("usage_limit_reached")
    with op.batch_alter_table("usage_weekly_summaries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_weekly_summaries_week_start"))
    op.drop_table("usage_weekly_summaries")
