"""Database plumbing: the declarative Base, portable column types, engine and sessions.

SQLite (the embedded default) and PostgreSQL run the same models and migrations. SQLite gets
foreign keys switched on and WAL journaling; datetimes are always timezone-aware UTC in Python.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import JSON, DateTime, MetaData, Update, bindparam, event, exc, inspect, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that refuses naive datetimes and always comes back aware, in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


PortableJSON = JSON().with_variant(JSONB(), "postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# A pooled connection idle for longer than this is pinged before it is handed out; one in use
# moments ago is not. SQLAlchemy's ``pool_pre_ping`` pings on every checkout, and on asyncpg a
# ping is three round trips (BEGIN, an empty query, ROLLBACK): a third of the statements of a
# location upload. A server that restarts breaks the connections in use too: the request on
# such a connection fails, SQLAlchemy sees the disconnect and discards every connection of the
# pool older than it, so only the requests in flight fail.
PING_AFTER_IDLE_SECONDS = 2.0


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:
        # The pool discards this connection and checks out another (or connects anew).
        raise exc.DisconnectionError() from error


# Raised by asyncpg while connecting, unwrapped by SQLAlchemy: the server is shutting down or
# starting up (57P01, 57P03), refused us, or dropped the connection.
DRIVER_UNREACHABLE: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached (a restart, a failover, a
    full pool) rather than that the request or the code was wrong: worth a 503 and a retry."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.InterfaceError | exc.DisconnectionError | exc.TimeoutError):
        return True
    if _caused_by_driver(error):
        return True
    # A refused or reset socket while the pool connects is raised as the OS gave it: ours only
    # when it came through the pool (an HTTP client's own refusal is another service's).
    if isinstance(error, ConnectionError | socket.gaierror):
        return _through_the_pool(error)
    return False


def _caused_by_driver(error: BaseException) -> bool:
    """Whether asyncpg's own unreachable errors are ``error`` or its cause: SQLAlchemy wraps
    them in its adapter's error, which wraps asyncpg's (``orig``, then ``__cause__``)."""
    seen: BaseException | None = error
    for _ in range(4):  # error, adapter, driver; a bound in case of a cycle
        if seen is None:
            return False
        if isinstance(seen, DRIVER_UNREACHABLE):
            return True
        orig = seen.orig if isinstance(seen, exc.DBAPIError) else None
        seen = orig if isinstance(orig, BaseException) else seen.__cause__
    return False


def _through_the_pool(error: BaseException) -> bool:
    tb = error.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("sqlalchemy.pool", "asyncpg")):
            return True
        tb = tb.tb_next
    return False


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 20, max_overflow: int = 10
) -> AsyncEngine:
    """An async engine for ``url``; creates the SQLite file's folder when needed. On a server,
    ``pool_size`` connections are kept open and up to ``max_overflow`` more are opened at a
    peak (``KitSettings.db_pool_size``)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        # aiosqlite logs every statement with its parameters (phone numbers, names, places) at
        # DEBUG: a DEBUG log level must not copy personal data into the logs.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session that commits when the block ends and rolls back if it raises (CLI, workers)."""
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


_AFTER_COMMIT = "parental.after_commit"  # session info: what to run once the commit is done


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Run ``action`` once the session's transaction has committed; never if it rolls back.

    For what other readers must learn only when the change is there to read (a cache
    forgetting what the change voids). ``action`` runs on the event loop's thread inside
    SQLAlchemy's commit: it must not block, and what it raises is logged, not raised."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    for action in session.info.pop(_AFTER_COMMIT, []):
        try:
            action()
        except Exception:
            log.exception("an action after a commit failed")


@event.listens_for(Session, "after_transaction_end")
def _forget_after_commit(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back, or closed without a commit
        session.info.pop(_AFTER_COMMIT, None)


# UPDATE statements of ``write_fields``, by table and the columns they set: built once.
_WRITES: dict[tuple[str, tuple[str, ...]], Update] = {}


async def write_fields(
    session: AsyncSession, changes: Sequence[tuple[Any, dict[str, Any]]]
) -> None:
    """Set each loaded ORM object's ``values`` and write them by primary key, in one statement
    for objects of one table changing the same columns, without the unit of work.

    For rows read on a hot path and held locked by the caller (a device's status, a child's
    places): a flush costs several times the statement it sends. The objects are left clean,
    holding the new values, as if flushed."""
    batches: dict[tuple[str, tuple[str, ...]], list[tuple[Any, dict[str, Any]]]] = {}
    for obj, values in changes:
        table = inspect(obj).mapper.local_table
        batches.setdefault((table.name, tuple(values)), []).append((obj, values))
    for (name, columns), objects in batches.items():
        mapper = inspect(objects[0][0]).mapper
        keys = [column.key for column in mapper.primary_key]
        statement = _WRITES.get((name, columns))
        if statement is None:
            table = mapper.local_table
            statement = (
                update(table)
                .where(*(table.c[key] == bindparam(f"pk_{key}") for key in keys))
                .values({column: bindparam(f"new_{column}") for column in columns})
            )
            _WRITES[(name, columns)] = statement
        params = [
            {
                **{f"pk_{key}": getattr(obj, key) for key in keys},
                **{f"new_{column}": value for column, value in values.items()},
            }
            for obj, values in objects
        ]
        await session.execute(statement, params)
        for obj, values in objects:
            for column, value in values.items():
                set_committed_value(obj, column, value)
