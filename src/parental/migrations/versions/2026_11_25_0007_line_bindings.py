"""line bindings

Revision ID: 20261125_0007
Revises: 20261125_0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_0007"
down_revision: str | None = "20261125_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "line_bindings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("line_id", sa.Uuid(), nullable=False),
        sa.Column("network", sa.String(length=48), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["lines.id"],
            name=op.f("fk_line_bindings_line_id_lines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_bindings")),
        sa.UniqueConstraint("session_id", name=op.f("uq_line_bindings_session_id")),
    )
    for column in ("line_id", "network", "expires_at", "updated_at"):
        op.create_index(op.f(f"ix_line_bindings_{column}"), "line_bindings", [column], unique=False)


def downgrade() -> None:
    for column in ("updated_at", "expires_at", "network", "line_id"):
        op.drop_index(op.f(f"ix_line_bindings_{column}"), table_name="line_bindings")
    op.drop_table("line_bindings")
