"""filter activity

Revision ID: 20261125_0006
Revises: 20261125_0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_0006"
down_revision: str | None = "20261125_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "filter_verdict_counts",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=5), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "child_id", "day", "category", "action", name=op.f("pk_filter_verdict_counts")
        ),
    )
    op.create_table(
        "filter_blocked_hosts",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_id", "day", "host", name=op.f("pk_filter_blocked_hosts")),
    )
    op.create_index(
        op.f("ix_filter_blocked_hosts_last_at"), "filter_blocked_hosts", ["last_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_filter_blocked_hosts_last_at"), table_name="filter_blocked_hosts")
    op.drop_table("filter_blocked_hosts")
    op.drop_table("filter_verdict_counts")
