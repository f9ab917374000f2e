"""filter reports

Revision ID: 20261125_0005
Revises: 20261125_0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_0005"
down_revision: str | None = "20261125_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _verdict_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("verdict_action", sa.String(length=5), nullable=True),
        sa.Column("verdict_category", sa.String(length=40), nullable=True),
        sa.Column("verdict_source_id", sa.String(length=64), nullable=True),
        sa.Column("verdict_source_name", sa.String(length=80), nullable=True),
        sa.Column("verdict_version", sa.String(length=64), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "filter_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("open_key", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reporter_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("applied_category", sa.String(length=40), nullable=True),
        sa.Column("applied_action", sa.String(length=5), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        *_verdict_columns(),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["filter_entries.id"],
            name=op.f("fk_filter_reports_entry_id_filter_entries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_reports")),
        sa.UniqueConstraint("open_key", name=op.f("uq_filter_reports_open_key")),
    )
    with op.batch_alter_table("filter_reports") as batch_op:
        batch_op.create_index(
            "ix_filter_reports_queue", ["status", "reporter_count", "created_at"], unique=False
        )
        batch_op.create_index("ix_filter_reports_decided_at", ["decided_at"], unique=False)

    op.create_table(
        "filter_report_submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("reporter_type", sa.String(length=16), nullable=False),
        sa.Column("reporter_id", sa.String(length=64), nullable=True),
        sa.Column("child_id", sa.Uuid(), nullable=True),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_verdict_columns(),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["filter_reports.id"],
            name=op.f("fk_filter_report_submissions_report_id_filter_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_report_submissions")),
    )
    with op.batch_alter_table("filter_report_submissions") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_filter_report_submissions_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(
            "ix_filter_report_submissions_child_time", ["child_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("filter_report_submissions") as batch_op:
        batch_op.drop_index("ix_filter_report_submissions_child_time")
        batch_op.drop_index(batch_op.f("ix_filter_report_submissions_report_id"))
    op.drop_table("filter_report_submissions")
    with op.batch_alter_table("filter_reports") as batch_op:
        batch_op.drop_index("ix_filter_reports_decided_at")
        batch_op.drop_index("ix_filter_reports_queue")
    op.drop_table("filter_reports")
