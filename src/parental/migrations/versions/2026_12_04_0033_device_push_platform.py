"""device push tokens: the agent's platform (android, ios) and language

Revision ID: 20261204_0033
Revises: 20261204_0032
Create Date: 2026-12-04

Adds ``device_push_tokens.platform``, for the tokens already stored the platform their device
was paired with (``devices.platform``; the agents registered before they could say), and
``device_push_tokens.locale`` (none: the default language). iOS devices get their
commands as APNs alerts where Apple asks for one (``parental.commands.push``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0033"
down_revision: str | None = "20261204_0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device_push_tokens") as batch:
        batch.add_column(
            sa.Column("platform", sa.String(length=8), server_default="android", nullable=False)
        )
        batch.add_column(sa.Column("locale", sa.String(length=2), nullable=True))
    op.execute(
        "UPDATE device_push_tokens SET platform = (SELECT devices.platform FROM devices"
        " WHERE devices.id = device_push_tokens.device_id AND devices.platform IN"
        " ('android', 'ios')) WHERE EXISTS (SELECT 1 FROM devices"
        " WHERE devices.id = device_push_tokens.device_id AND devices.platform IN"
        " ('android', 'ios'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("device_push_tokens") as batch:
        batch.drop_column("locale")
        batch.drop_column("platform")
