"""screen time requests

Revision ID: 20261202_0016
Revises: 20261202_0015
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0016"
down_revision: str | None = "20261202_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screen_time_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("app", sa.String(length=255), nullable=True),
        sa.Column("app_name", sa.String(length=255), nullable=True),
        sa.Column("category", sa.String(length=12), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("open_key", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("granted_minutes", sa.Integer(), nullable=True),
        sa.Column("reply", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screen_time_requests")),
        sa.UniqueConstraint("open_key", name=op.f("uq_screen_time_requests_open_key")),
    )
    with op.batch_alter_table("screen_time_requests") as batch_op:
        batch_op.create_index(
            "ix_screen_time_requests_child_time", ["child_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_screen_time_requests_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "screen_time_tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("app", sa.String(length=255), nullable=True),
        sa.Column("category", sa.String(length=12), nullable=True),
        sa.Column("reward_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("granted_day", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screen_time_tasks")),
    )
    with op.batch_alter_table("screen_time_tasks") as batch_op:
        batch_op.create_index(
            "ix_screen_time_tasks_child_time", ["child_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_screen_time_tasks_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("screen_time_tasks") as batch_op:
        batch_op.drop_index("ix_screen_time_tasks_updated_at")
        batch_op.drop_index("ix_screen_time_tasks_child_time")
    op.drop_table("screen_time_tasks")
    with op.batch_alter_table("screen_time_requests") as batch_op:
        batch_op.drop_index("ix_screen_time_requests_updated_at")
        batch_op.drop_index("ix_screen_time_requests_child_time")
    op.drop_table("screen_time_requests")
