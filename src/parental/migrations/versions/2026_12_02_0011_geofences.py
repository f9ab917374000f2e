"""geofences

Revision ID: 20261202_0011
Revises: 20261202_0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0011"
down_revision: str | None = "20261202_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "geofence_places",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("shape", JSON, nullable=False),
        sa.Column("schedule", JSON, nullable=False),
        sa.Column("notify_enter", sa.Boolean(), nullable=False),
        sa.Column("notify_exit", sa.Boolean(), nullable=False),
        sa.Column("arrive_by", JSON, nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inside_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geofence_places")),
    )
    with op.batch_alter_table("geofence_places") as batch_op:
        for column in ("child_id", "next_check_at"):
            batch_op.create_index(
                batch_op.f(f"ix_geofence_places_{column}"), [column], unique=False
            )

    op.create_table(
        "geofence_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("place_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place_name", sa.String(length=80), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["geofence_places.id"],
            name=op.f("fk_geofence_events_place_id_geofence_places"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geofence_events")),
        sa.UniqueConstraint(
            "child_id", "place_id", "kind", "occurred_at", name=op.f("uq_geofence_events_child_id")
        ),
    )
    with op.batch_alter_table("geofence_events") as batch_op:
        batch_op.create_index(
            "ix_geofence_events_child_time", ["child_id", "occurred_at"], unique=False
        )
        for column in ("occurred_at", "place_id"):
            batch_op.create_index(
                batch_op.f(f"ix_geofence_events_{column}"), [column], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("geofence_events") as batch_op:
        for column in ("place_id", "occurred_at"):
            batch_op.drop_index(batch_op.f(f"ix_geofence_events_{column}"))
        batch_op.drop_index("ix_geofence_events_child_time")
    op.drop_table("geofence_events")
    with op.batch_alter_table("geofence_places") as batch_op:
        for column in ("next_check_at", "child_id"):
            batch_op.drop_index(batch_op.f(f"ix_geofence_places_{column}"))
    op.drop_table("geofence_places")
