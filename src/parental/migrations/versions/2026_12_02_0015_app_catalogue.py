"""app catalogue

Revision ID: 20261202_0015
Revises: 20261202_0014
Create Date: 2026-12-02

Seeds the starter catalogue shipped with the product (``telemetry/usage/catalogue/data/app_catalogue.csv``,
``app,name,category``), so a fresh install has it. Read here with the csv module only: what a
later release changes in that file is a later migration's business.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0015"
down_revision: str | None = "20261202_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHIPPED = datetime(2026, 12, 2, tzinfo=UTC)


def starter_rows() -> list[dict[str, object]]:
    text = (
        resources.files("telemetry.usage.catalogue")
        .joinpath("data/app_catalogue.csv")
        .read_text(encoding="utf-8")
    )
    return [
        {
            "app": row["app"],
            "name": row["name"],
            "category": row["category"],
            "note": None,
            "updated_at": SHIPPED,
            "updated_by": None,
        }
        for row in csv.DictReader(io.StringIO(text))
    ]


def upgrade() -> None:
    catalogue = op.create_table(
        "app_catalogue",
        sa.Column("app", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("app", name=op.f("pk_app_catalogue")),
    )
    with op.batch_alter_table("app_catalogue") as batch_op:
        batch_op.create_index("ix_app_catalogue_category", ["category", "app"], unique=False)
    op.create_table(
        "child_app_categories",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("app", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("child_id", "app", name=op.f("pk_child_app_categories")),
    )
    op.bulk_insert(catalogue, starter_rows())


def downgrade() -> None:
    op.drop_table("child_app_categories")
    with op.batch_alter_table("app_catalogue") as batch_op:
        batch_op.drop_index("ix_app_catalogue_category")
    op.drop_table("app_catalogue")
