"""child step-down: when a child's 18th birthday was acted on, and when the data went

Revision ID: 20261203_0025
Revises: 20261202_0023
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0025"
down_revision: str | None = "20261202_0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("stepped_down_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("adult_data_erased_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.drop_column("adult_data_erased_at")
        batch.drop_column("stepped_down_at")
