"""conversation lexicons: curators' versions of the conversation-risk lexicon, drafts included

Revision ID: 20261202_0023
Revises: 20261202_0022
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0023"
down_revision: str | None = "20261202_0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "conversation_lexicons",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("lexicon", JSON, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("rolled_back_to", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_conversation_lexicons")),
    )


def downgrade() -> None:
    op.drop_table("conversation_lexicons")
