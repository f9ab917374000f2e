"""app catalogue: the apps every child's policy always allows; usage apps by app id

Revision ID: 20261204_0031
Revises: 20261203_0030
Create Date: 2026-12-04

Adds ``app_catalogue.always_allowed`` (false for every row), then sets it for the rows the
shipped catalogue (``telemetry/usage/catalogue/data/app_catalogue.csv``, column
``always_allowed``) marks: the phone, contacts, SMS and messages, emergency and maps apps. A
marked app missing from the catalogue (new in this release) is added with its shipped name and
category; one a curator edited keeps the curator's name and category and gets the mark. The
file is read with the csv module only, as the migration that created the table reads it.

Also indexes ``usage_apps`` by app id: the children who have an app are looked up when a
curator changes its row, to tell their devices to fetch their policy.

Downgrading drops the column and the index; the rows added stay (they are valid rows without
the mark).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0031"
down_revision: str | None = "20261203_0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHIPPED = datetime(2026, 12, 4, tzinfo=UTC)


def marked_rows() -> list[dict[str, str]]:
    """The shipped rows marked always allowed."""
    text = (
        resources.files("telemetry.usage.catalogue")
        .joinpath("data/app_catalogue.csv")
        .read_text(encoding="utf-8")
    )
    return [row for row in csv.DictReader(io.StringIO(text)) if row["always_allowed"] == "true"]


def upgrade() -> None:
    with op.batch_alter_table("app_catalogue") as batch_op:
        batch_op.add_column(
            sa.Column("always_allowed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("usage_apps") as batch_op:
        batch_op.create_index("ix_usage_apps_app", ["app"], unique=False)

    catalogue = sa.table(
        "app_catalogue",
        sa.column("app", sa.String()),
        sa.column("name", sa.String()),
        sa.column("category", sa.String()),
        sa.column("note", sa.String()),
        sa.column("always_allowed", sa.Boolean()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_by", sa.Uuid()),
    )
    marked = marked_rows()
    connection = op.get_bind()
    apps = [row["app"] for row in marked]
    present = set(connection.scalars(sa.select(catalogue.c.app).where(catalogue.c.app.in_(apps))))
    connection.execute(
        catalogue.update().where(catalogue.c.app.in_(apps)).values(always_allowed=True)
    )
    missing = [
        {
            "app": row["app"],
            "name": row["name"],
            "category": row["category"],
            "note": None,
            "always_allowed": True,
            "updated_at": SHIPPED,
            "updated_by": None,
        }
        for row in marked
        if row["app"] not in present
    ]
    if missing:
        op.bulk_insert(catalogue, missing)


def downgrade() -> None:
    with op.batch_alter_table("usage_apps") as batch_op:
        batch_op.drop_index("ix_usage_apps_app")
    with op.batch_alter_table("app_catalogue") as batch_op:
        batch_op.drop_column("always_allowed")
