"""alarms

Revision ID: 20261202_0012
Revises: 20261202_0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0012"
down_revision: str | None = "20261202_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("battery_pct", sa.Integer(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_alarms_dedup_key")),
    )
    with op.batch_alter_table("alarms") as batch_op:
        batch_op.create_index("ix_alarms_child_time", ["child_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_alarms_occurred_at", ["occurred_at"], unique=False)

    op.create_table(
        "alarm_settings",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("battery_threshold_pct", sa.Integer(), nullable=False),
        sa.Column("silent_after_minutes", sa.Integer(), nullable=False),
        sa.Column("low_battery_enabled", sa.Boolean(), nullable=False),
        sa.Column("device_silent_enabled", sa.Boolean(), nullable=False),
        sa.Column("sim_moved_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_id", name=op.f("pk_alarm_settings")),
    )

    op.create_table(
        "alarm_device_status",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("silent_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("silence_noted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("battery_pct", sa.Integer(), nullable=True),
        sa.Column("charging", sa.Boolean(), nullable=True),
        sa.Column("battery_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("battery_low_noted", sa.Boolean(), nullable=False),
        sa.Column("app_version", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_alarm_device_status")),
    )
    with op.batch_alter_table("alarm_device_status") as batch_op:
        for column in ("child_id", "last_seen_at", "silent_due_at"):
            batch_op.create_index(
                batch_op.f(f"ix_alarm_device_status_{column}"), [column], unique=False
            )

    op.create_table(
        "alarm_line_handsets",
        sa.Column("line_id", sa.Uuid(), nullable=False),
        sa.Column("imei_hash", sa.String(length=64), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_alarm_line_handsets")),
    )
    with op.batch_alter_table("alarm_line_handsets") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alarm_line_handsets_observed_at"), ["observed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("alarm_line_handsets") as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarm_line_handsets_observed_at"))
    op.drop_table("alarm_line_handsets")
    with op.batch_alter_table("alarm_device_status") as batch_op:
        for column in ("silent_due_at", "last_seen_at", "child_id"):
            batch_op.drop_index(batch_op.f(f"ix_alarm_device_status_{column}"))
    op.drop_table("alarm_device_status")
    op.drop_table("alarm_settings")
    with op.batch_alter_table("alarms") as batch_op:
        batch_op.drop_index("ix_alarms_occurred_at")
        batch_op.drop_index("ix_alarms_child_time")
    op.drop_table("alarms")
