"""the carrier's age policy: transcripts, excerpts, listening bands and the child's consent
age, set through the carrier's API (one row)

Revision ID: 20261204_0032
Revises: 20261204_0031
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261204_0032"
down_revision: str | None = "20261204_0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carrier_age_policy",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("transcripts_under_age", sa.SmallInteger(), nullable=False),
        sa.Column("excerpts_under_age", sa.SmallInteger(), nullable=False),
        sa.Column(
            "listen_age_bands",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("child_consent_age", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_carrier_age_policy_single_row")),
        sa.CheckConstraint(
            "transcripts_under_age >= 0 AND transcripts_under_age <= excerpts_under_age "
            "AND excerpts_under_age <= 18",
            name=op.f("ck_carrier_age_policy_message_bands"),
        ),
        sa.CheckConstraint(
            "child_consent_age >= 0 AND child_consent_age <= 18",
            name=op.f("ck_carrier_age_policy_consent_age"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_age_policy")),
    )


def downgrade() -> None:
    op.drop_table("carrier_age_policy")
