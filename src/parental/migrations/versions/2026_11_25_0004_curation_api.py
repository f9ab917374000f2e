"""curation api

Revision ID: 20261125_0004
Revises: 20261125_0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261125_0004"
down_revision: str | None = "20261125_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("filter_entries") as batch:
        batch.add_column(sa.Column("removed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("removal_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("import_id", sa.Uuid(), nullable=True))
        batch.drop_index("ix_filter_entries_host")
        batch.create_index("ix_filter_entries_rule", ["host", "source_id"], unique=False)
    with op.batch_alter_table("filter_sources") as batch:
        batch.add_column(sa.Column("refresh_interval_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_refresh_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("refresh_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("auto_publish", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "filter_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column(
            "report",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["filter_sources.id"],
            name=op.f("fk_filter_imports_source_id_filter_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_imports")),
    )
    with op.batch_alter_table("filter_imports") as batch:
        batch.create_index("ix_filter_imports_source_at", ["source_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("filter_imports") as batch:
        batch.drop_index("ix_filter_imports_source_at")
    op.drop_table("filter_imports")
    with op.batch_alter_table("filter_sources") as batch:
        batch.drop_column("auto_publish")
        batch.drop_column("last_error_at")
        batch.drop_column("refresh_status")
        batch.drop_column("last_checked_at")
        batch.drop_column("next_refresh_at")
        batch.drop_column("refresh_interval_seconds")
    with op.batch_alter_table("filter_entries") as batch:
        batch.drop_index("ix_filter_entries_rule")
        batch.create_index("ix_filter_entries_host", ["host"], unique=False)
        batch.drop_column("import_id")
        batch.drop_column("removal_reason")
        batch.drop_column("removed_at")
        batch.drop_column("removed_by")
