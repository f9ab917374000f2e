"""curation api

Revision ID: 20261125_0004
Revises: 20261125_0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_0004"
down_revision: str | None = "20261125_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("filter_entries") as batch:
        batch.add_column(sa.Column("removed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("removal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("filter_entries") as batch:
        batch.drop_column("removal_reason")
        batch.drop_column("removed_at")
        batch.drop_column("removed_by")
