"""notification inbox: when a guardian read each notification

Revision ID: 20261202_0020
Revises: 20261202_0019
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0020"
down_revision: str | None = "20261202_0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("push_outbox") as batch:
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            "ix_push_outbox_account_id_created_at", ["account_id", "created_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("push_outbox") as batch:
        batch.drop_index("ix_push_outbox_account_id_created_at")
        batch.drop_column("read_at")
