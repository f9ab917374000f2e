"""conversation messages: what the child's device agent saw in messenger apps, sealed, and
the alerts raised on risky ones

Revision ID: 20261202_0022
Revises: 20261202_0021
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0022"
down_revision: str | None = "20261202_0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("message_hash", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attachment", sa.String(16), nullable=True),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("hits", JSON, nullable=False),
        sa.UniqueConstraint(
            "device_id",
            "app",
            "conversation_hash",
            "message_hash",
            name="uq_conversation_messages_identity",
        ),
    )
    op.create_index(
        "ix_conversation_messages_child_sent",
        "conversation_messages",
        ["child_id", "sent_at", "id"],
    )
    op.create_index("ix_conversation_messages_sent_at", "conversation_messages", ["sent_at"])
    op.create_index("ix_conversation_messages_key_id", "conversation_messages", ["key_id"])
    op.create_table(
        "message_alerts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("sealed_excerpt", sa.LargeBinary(), nullable=False),
    )
    op.create_index(
        "ix_message_alerts_child_created", "message_alerts", ["child_id", "created_at", "id"]
    )
    op.create_index(
        "ix_message_alerts_group",
        "message_alerts",
        ["child_id", "conversation_hash", "label", "last_at"],
    )
    op.create_index("ix_message_alerts_created_at", "message_alerts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_message_alerts_created_at", table_name="message_alerts")
    op.drop_index("ix_message_alerts_group", table_name="message_alerts")
    op.drop_index("ix_message_alerts_child_created", table_name="message_alerts")
    op.drop_table("message_alerts")
    op.drop_index("ix_conversation_messages_key_id", table_name="conversation_messages")
    op.drop_index("ix_conversation_messages_sent_at", table_name="conversation_messages")
    op.drop_index("ix_conversation_messages_child_sent", table_name="conversation_messages")
    op.drop_table("conversation_messages")
