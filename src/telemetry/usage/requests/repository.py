"""Every SQL statement about the child's requests (``requests_models``).

"Pending" and "expired" are decided in SQL at the instant given, so an extra-time request
expires at the child's midnight without anyone writing to it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from telemetry.usage.requests.models import ScreenTimeRequest as Row
from telemetry.usage.rules.schemas import InstallAnswer

INSTALL = "app_install"
EXTRA_TIME = "extra_time"
PENDING = "pending"
ANSWERS = ("approved", "declined")

Keyset = tuple[int, datetime, uuid.UUID]  # rank (0 pending, 1 not; or 0 for all), created, id


def is_pending(now: datetime) -> ColumnElement[bool]:
    return and_(Row.status == PENDING, or_(Row.expires_at.is_(None), Row.expires_at > now))


def _with_status(status: str, now: datetime) -> ColumnElement[bool]:
    if status == PENDING:
        return is_pending(now)
    if status == "expired":
        return and_(Row.status == PENDING, Row.expires_at <= now)
    return Row.status == status


async def add(session: AsyncSession, values: dict[str, Any]) -> Row:
    row = Row(**values)
    session.add(row)
    await session.flush()
    return row


async def open_install(session: AsyncSession, values: dict[str, Any]) -> Row:
    """The pending install request with ``values["open_key"]``, made from ``values`` unless
    one exists already: INSERT ... ON CONFLICT DO NOTHING (both engines speak it), so two asks
    at once make one request."""
    build = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        build(Row).values(values).on_conflict_do_nothing(index_elements=["open_key"])
    )
    row = await pending_install(session, values["open_key"])
    assert row is not None  # answering clears the key in the same statement that decides
    return row


async def pending_install(session: AsyncSession, open_key: str) -> Row | None:
    result: Row | None = await session.scalar(
        select(Row).where(Row.open_key == open_key).execution_options(populate_existing=True)
    )
    return result


async def count_pending(session: AsyncSession, child_id: uuid.UUID, now: datetime) -> int:
    query = select(func.count()).where(Row.child_id == child_id, is_pending(now))
    return int(await session.scalar(query) or 0)


async def get_for_child(
    session: AsyncSession, child_id: uuid.UUID, request_id: uuid.UUID
) -> Row | None:
    result: Row | None = await session.scalar(
        select(Row)
        .where(Row.id == request_id, Row.child_id == child_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result


async def page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    now: datetime,
    status: str | None,
    pending_first: bool,
    limit: int,
    after: Keyset | None,
) -> list[tuple[Row, int]]:
    """The child's requests with their rank, newest first (the pending ones first, if asked),
    ``limit`` of them after the keyset ``after``."""
    query = select(Row).where(Row.child_id == child_id)
    if status is not None:
        query = query.where(_with_status(status, now))
    older: ColumnElement[bool] | None = None
    if after is not None:
        _, at, row_id = after
        older = or_(Row.created_at < at, and_(Row.created_at == at, Row.id < row_id))
    newest = (Row.created_at.desc(), Row.id.desc())
    if not pending_first:
        if older is not None:
            query = query.where(older)
        rows = await session.scalars(query.order_by(*newest).limit(limit))
        return [(row, 0) for row in rows]
    rank = case((is_pending(now), 0), else_=1)
    if after is not None and older is not None:
        query = query.where(or_(rank > after[0], and_(rank == after[0], older)))
    ranked = await session.execute(query.add_columns(rank).order_by(rank, *newest).limit(limit))
    return [(row, int(r)) for row, r in ranked]


async def mark_decided(
    session: AsyncSession, request_id: uuid.UUID, now: datetime, values: dict[str, Any]
) -> bool:
    """Answer the request with ``values`` if it is still pending at ``now``; false if someone
    answered first (or it expired meanwhile)."""
    result: Any = await session.execute(
        update(Row)
        .where(Row.id == request_id, is_pending(now))
        .values(open_key=None, decided_at=now, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1


def _answer(row: type[Row] | Any) -> ColumnElement[bool]:
    return and_(row.kind == INSTALL, row.status.in_(ANSWERS))


async def install_answers(session: AsyncSession, child_id: uuid.UUID) -> dict[str, InstallAnswer]:
    """The latest answer to each app the child's devices asked to install."""
    query = (
        select(Row.app, Row.status)
        .where(Row.child_id == child_id, _answer(Row))
        .order_by(Row.decided_at, Row.id)
    )
    answers: dict[str, InstallAnswer] = {}
    for app, status in await session.execute(query):
        if app is not None:
            answers[app] = "approved" if status == "approved" else "declined"
    return answers


def _in_force() -> ColumnElement[bool]:
    """The row is its app's latest install answer for its child."""
    newer = aliased(Row)
    return and_(
        _answer(Row),
        not_(
            exists().where(
                newer.child_id == Row.child_id,
                newer.app == Row.app,
                _answer(newer),
                or_(
                    newer.decided_at > Row.decided_at,
                    and_(newer.decided_at == Row.decided_at, newer.id > Row.id),
                ),
            )
        ),
    )


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete requests last changed before ``before``, but each app's install answer in force,
    whose texts (the child's message, the reply) go instead; how many rows went."""
    old = Row.updated_at < before
    await session.execute(
        update(Row)
        .where(old, _in_force(), or_(Row.message.is_not(None), Row.reply.is_not(None)))
        .values(message=None, reply=None)
        .execution_options(synchronize_session=False)
    )
    result: Any = await session.execute(
        delete(Row).where(old, not_(_in_force())).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> int:
    result: Any = await session.execute(
        delete(Row).where(Row.child_id == child_id),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)
