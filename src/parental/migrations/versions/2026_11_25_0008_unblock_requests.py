"""unblock requests

Revision ID: 20261125_0008
Revises: 20261125_0007
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_0008"
down_revision: str | None = "20261125_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unblock_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("open_key", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ask_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=True),
        sa.Column("allowed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unblock_requests")),
        sa.UniqueConstraint("open_key", name=op.f("uq_unblock_requests_open_key")),
    )
    with op.batch_alter_table("unblock_requests") as batch_op:
        batch_op.create_index(
            "ix_unblock_requests_child_time", ["child_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_unblock_requests_decided_at", ["decided_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unblock_requests") as batch_op:
        batch_op.drop_index("ix_unblock_requests_decided_at")
        batch_op.drop_index("ix_unblock_requests_child_time")
    op.drop_table("unblock_requests")
