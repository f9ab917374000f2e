"""device commands: the device agent's FCM token, commands to the child's device, and the
audio a listening session uploads

Revision ID: 20261202_0021
Revises: 20261202_0020
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0021"
down_revision: str | None = "20261202_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "device_push_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "device_id",
            sa.Uuid(),
            sa.ForeignKey("devices.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("token", sa.String(1024), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_device_push_tokens_refreshed_at", "device_push_tokens", ["refreshed_at"])
    op.create_table(
        "device_commands",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "child_id",
            sa.Uuid(),
            sa.ForeignKey("children.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("issued_by", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushes", sa.Integer(), nullable=False),
        sa.Column("last_pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.String(200), nullable=True),
        sa.Column("result", JSON, nullable=False),
    )
    op.create_index(
        "ix_device_commands_child_id_created_at",
        "device_commands",
        ["child_id", "created_at", "id"],
    )
    op.create_index(
        "ix_device_commands_state_expires_at", "device_commands", ["state", "expires_at"]
    )
    op.create_table(
        "command_audio",
        sa.Column(
            "command_id",
            sa.Uuid(),
            sa.ForeignKey("device_commands.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_command_audio_expires_at", "command_audio", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_command_audio_expires_at", table_name="command_audio")
    op.drop_table("command_audio")
    op.drop_index("ix_device_commands_state_expires_at", table_name="device_commands")
    op.drop_index("ix_device_commands_child_id_created_at", table_name="device_commands")
    op.drop_table("device_commands")
    op.drop_index("ix_device_push_tokens_refreshed_at", table_name="device_push_tokens")
    op.drop_table("device_push_tokens")
