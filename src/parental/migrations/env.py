"""Alembic environment: runs on a connection handed in by ``parental.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from parental.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `parental db upgrade`, which supplies a connection")
run_on(connection)
