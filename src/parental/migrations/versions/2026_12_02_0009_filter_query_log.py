"""filter query log

Revision ID: 20261202_0009
Revises: 20261125_0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0009"
down_revision: str | None = "20261125_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "filter_query_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("action", sa.String(length=5), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_query_log")),
    )
    with op.batch_alter_table("filter_query_log") as batch_op:
        batch_op.create_index(
            "ix_filter_query_log_child_time", ["child_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_filter_query_log_occurred_at"), ["occurred_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("filter_query_log") as batch_op:
        batch_op.drop_index(batch_op.f("ix_filter_query_log_occurred_at"))
        batch_op.drop_index("ix_filter_query_log_child_time")
    op.drop_table("filter_query_log")
