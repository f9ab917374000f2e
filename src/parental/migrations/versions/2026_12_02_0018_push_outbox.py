"""push outbox

Revision ID: 20261202_0018
Revises: 20261202_0017
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0018"
down_revision: str | None = "20261202_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "push_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.String(length=1024), nullable=False),
        sa.Column("platform", sa.String(length=8), nullable=False),
        sa.Column("app_version", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_push_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_push_tokens_token")),
    )
    with op.batch_alter_table("push_tokens") as batch_op:
        batch_op.create_index(batch_op.f("ix_push_tokens_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_push_tokens_refreshed_at"), ["refreshed_at"], unique=False
        )

    op.create_table(
        "push_outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("delivered_to", JSON, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_push_outbox_dedup_key")),
    )
    with op.batch_alter_table("push_outbox") as batch_op:
        batch_op.create_index(batch_op.f("ix_push_outbox_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_push_outbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_push_outbox_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("push_outbox") as batch_op:
        batch_op.drop_index("ix_push_outbox_state_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_push_outbox_created_at"))
        batch_op.drop_index(batch_op.f("ix_push_outbox_account_id"))
    op.drop_table("push_outbox")
    with op.batch_alter_table("push_tokens") as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_tokens_refreshed_at"))
        batch_op.drop_index(batch_op.f("ix_push_tokens_account_id"))
    op.drop_table("push_tokens")
