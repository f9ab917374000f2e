"""filter import jobs: imports started from the console, run in the background, and their
progress

Revision ID: 20261203_0030
Revises: 20261203_0029
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_0030"
down_revision: str | None = "20261203_0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "filter_import_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("running_source_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("runner", sa.String(length=32), nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("lines_read", sa.Integer(), nullable=True),
        sa.Column("lines_total", sa.Integer(), nullable=True),
        sa.Column("to_add", sa.Integer(), nullable=True),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.Column(
            "report",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["filter_sources.id"],
            name=op.f("fk_filter_import_jobs_source_id_filter_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_import_jobs")),
        sa.UniqueConstraint(
            "running_source_id", name=op.f("uq_filter_import_jobs_running_source_id")
        ),
    )
    op.create_index(
        "ix_filter_import_jobs_source_started",
        "filter_import_jobs",
        ["source_id", "started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_filter_import_jobs_source_started", table_name="filter_import_jobs")
    op.drop_table("filter_import_jobs")
