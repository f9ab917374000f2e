"""Audit rows written in groups: the rows of many requests in one transaction.

A read that must leave an audit row (a guardian looking at where the child is) answers only
once its row is committed, as if the row were written in the request's own transaction; but a
thousand such reads a second cost tens of transactions, not a thousand. There is no timer:
rows that arrive while a group is being written wait for it and go together in the next
(group commit), so a lone read waits for one transaction and a busy process writes larger
groups.

A group is one transaction: when it fails, every request of the group hears the error and
none of its rows is kept. A waiting request that is cancelled (its client went away) still
has its row written: the read may have been answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from parental.audit.models import AuditEvent
from parental.audit.service import Actor
from parental.kit.ids import new_id

MAX_GROUP = 500

_TABLE = AuditEvent.metadata.tables[AuditEvent.__tablename__]
_PG_TYPES = {
    "id": "uuid",
    "occurred_at": "timestamptz",
    "action": "varchar",
    "actor_type": "varchar",
    "actor_id": "varchar",
    "family_id": "uuid",
    "child_id": "uuid",
    "subject_type": "varchar",
    "subject_id": "varchar",
    "child_visible": "boolean",
    "ip": "varchar",
    "details": "text",  # JSON text, cast below
}
_COLUMNS = list(_TABLE.columns.keys())
assert list(_PG_TYPES) == _COLUMNS, "a column of audit_events has no type in _PG_TYPES"
assert _COLUMNS[-1] == "details"
_PG_INSERT = (
    f"INSERT INTO {_TABLE.name} ({', '.join(_COLUMNS)}) "  # noqa: S608 - names from the model
    f"SELECT {', '.join(_COLUMNS[:-1])}, details::jsonb FROM unnest("
    + ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(_PG_TYPES.values(), start=1))
    + f") AS t({', '.join(_COLUMNS)})"
)


class AuditWriter:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, max_group: int = MAX_GROUP
    ) -> None:
        engine = sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        self._engine = engine
        self._max_group = max_group
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._connection: AsyncConnection | None = None
        self.groups = 0  # transactions written, for tests and benchmarks

    async def record(
        self,
        *,
        at: datetime,
        action: str,
        actor: Actor,
        family_id: uuid.UUID | None = None,
        child_id: uuid.UUID | None = None,
        subject_type: str | None = None,
        subject_id: uuid.UUID | str | None = None,
        child_visible: bool = False,
        ip: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append one event (the columns of ``service.record``); returns once it is committed."""
        row = {
            "id": new_id(),
            "occurred_at": at,
            "action": action,
            "actor_type": actor.type,
            "actor_id": actor.id,
            "family_id": family_id,
            "child_id": child_id,
            "subject_type": subject_type,
            "subject_id": str(subject_id) if subject_id is not None else None,
            "child_visible": child_visible,
            "ip": ip,
            "details": details or {},
        }
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        while self._waiting:
            group = self._waiting[: self._max_group]
            del self._waiting[: self._max_group]
            self.groups += 1
            try:
                await _insert(await self._connect(), [row for row, _ in group])
            except Exception as exc:  # every waiter of the group hears it
                await self._disconnect()  # the next group starts on a fresh connection
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in group:
                    if not done.done():
                        done.set_result(None)

    async def _connect(self) -> AsyncConnection:
        """The writer's own connection, kept open: a group costs one round trip."""
        if self._connection is None:
            connection = await self._engine.connect()
            if connection.dialect.name == "postgresql":
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            self._connection = connection
        return self._connection

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()

    async def close(self) -> None:
        """Wait for the rows already handed over to be written; give the connection back."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()


async def _insert(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """One statement, committed on its own (a single statement is atomic). On PostgreSQL each
    column is an array parameter, so one prepared statement serves any group, sent straight
    through the driver: SQLAlchemy's handling of a statement cost more than the rows (reads
    of a child's position wait for this, see bench/bench_locations.py)."""
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        arrays = [[row[name] for row in rows] for name in _COLUMNS]
        arrays[-1] = [json.dumps(details) for details in arrays[-1]]
        driver = raw.driver_connection
        assert driver is not None  # a connection checked out of the pool is open
        await driver.execute(_PG_INSERT, *arrays)
    else:
        await connection.execute(insert(_TABLE), rows)
        await connection.commit()
