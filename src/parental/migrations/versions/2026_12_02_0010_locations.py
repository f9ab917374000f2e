"""locations

Revision ID: 20261202_0010
Revises: 20261202_0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0010"
down_revision: str | None = "20261202_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARRIER_ROWS = sa.text("device_id IS NULL")


def upgrade() -> None:
    op.create_table(
        "location_fixes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("battery_pct", sa.SmallInteger(), nullable=True),
        sa.Column("charging", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_fixes")),
    )
    with op.batch_alter_table("location_fixes") as batch_op:
        batch_op.create_index(
            "ix_location_fixes_child_time", ["child_id", "fixed_at"], unique=False
        )
        batch_op.create_index(
            "ix_location_fixes_carrier_time",
            ["child_id", "fixed_at"],
            unique=False,
            sqlite_where=CARRIER_ROWS,
            postgresql_where=CARRIER_ROWS,
        )


def downgrade() -> None:
    with op.batch_alter_table("location_fixes") as batch_op:
        batch_op.drop_index("ix_location_fixes_carrier_time")
        batch_op.drop_index("ix_location_fixes_child_time")
    op.drop_table("location_fixes")
