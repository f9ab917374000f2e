"""push outbox: the id of the request that wrote each row (logged with its sends)

Revision ID: 20261203_0027
Revises: 20261203_0026
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0027"
down_revision: str | None = "20261203_0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("push_outbox") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("push_outbox") as batch:
        batch.drop_column("request_id")
