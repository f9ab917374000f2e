"""usage

Revision ID: 20261202_0013
Revises: 20261202_0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0013"
down_revision: str | None = "20261202_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROWS = sa.text("app IS NOT NULL")
SCREEN_ROWS = sa.text("app IS NULL")


def upgrade() -> None:
    op.create_table(
        "usage_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("app", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_sessions")),
    )
    with op.batch_alter_table("usage_sessions") as batch_op:
        batch_op.create_index(
            "ix_usage_sessions_child_time", ["child_id", "started_at"], unique=False
        )
        batch_op.create_index("ix_usage_sessions_started_at", ["started_at"], unique=False)
        batch_op.create_index(
            "uq_usage_sessions_app",
            ["device_id", "kind", "app", "started_at"],
            unique=True,
            sqlite_where=APP_ROWS,
            postgresql_where=APP_ROWS,
        )
        batch_op.create_index(
            "uq_usage_sessions_screen",
            ["device_id", "kind", "started_at"],
            unique=True,
            sqlite_where=SCREEN_ROWS,
            postgresql_where=SCREEN_ROWS,
        )
    op.create_table(
        "usage_apps",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("app", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_id", "app", name=op.f("pk_usage_apps")),
    )


def downgrade() -> None:
    op.drop_table("usage_apps")
    with op.batch_alter_table("usage_sessions") as batch_op:
        batch_op.drop_index("uq_usage_sessions_screen")
        batch_op.drop_index("uq_usage_sessions_app")
        batch_op.drop_index("ix_usage_sessions_started_at")
        batch_op.drop_index("ix_usage_sessions_child_time")
    op.drop_table("usage_sessions")
