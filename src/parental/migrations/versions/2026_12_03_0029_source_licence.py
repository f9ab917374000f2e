"""filter sources: the list's licence as its publisher states it

Revision ID: 20261203_0029
Revises: 20261203_0028
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0029"
down_revision: str | None = "20261203_0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("filter_sources") as batch:
        batch.add_column(sa.Column("licence", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("filter_sources") as batch:
        batch.drop_column("licence")
