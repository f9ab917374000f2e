from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from filters.unblock.models import UnblockRequest


async def open_request(
    session: AsyncSession, values: dict[str, Any], open_key: str
) -> UnblockRequest | None:
    """The open request with ``open_key``, made from ``values`` unless one exists already.

    INSERT ... ON CONFLICT DO NOTHING (both engines speak it), so two taps at once make one
    request; None only if it was decided in between.
    """
    build = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        build(UnblockRequest).values(values).on_conflict_do_nothing(index_elements=["open_key"])
    )
    result: UnblockRequest | None = await session.scalar(
        select(UnblockRequest)
        .where(UnblockRequest.open_key == open_key)
        .execution_options(populate_existing=True)
    )
    return result


async def count_ask(session: AsyncSession, request_id: uuid.UUID, now: datetime) -> None:
    """One more ask, counted in SQL so concurrent asks all count."""
    await session.execute(
        update(UnblockRequest)
        .where(UnblockRequest.id == request_id)
        .values(ask_count=UnblockRequest.ask_count + 1, last_asked_at=now)
        .execution_options(synchronize_session=False)
    )


async def get_for_child(
    session: AsyncSession, child_id: uuid.UUID, request_id: uuid.UUID
) -> UnblockRequest | None:
    result: UnblockRequest | None = await session.scalar(
        select(UnblockRequest)
        .where(UnblockRequest.id == request_id, UnblockRequest.child_id == child_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result


async def page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[UnblockRequest]:
    """The child's requests, newest first, ``limit`` of them after the keyset ``after``."""
    query = select(UnblockRequest).where(UnblockRequest.child_id == child_id)
    if after is not None:
        at, row_id = after
        query = query.where(
            or_(
                UnblockRequest.created_at < at,
                and_(UnblockRequest.created_at == at, UnblockRequest.id < row_id),
            )
        )
    query = query.order_by(UnblockRequest.created_at.desc(), UnblockRequest.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def purge(session: AsyncSession, *, decided_before: datetime, open_before: datetime) -> int:
    result = await session.execute(
        delete(UnblockRequest).where(
            or_(
                UnblockRequest.decided_at < decided_before,
                and_(UnblockRequest.status == "open", UnblockRequest.last_asked_at < open_before),
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_decided(
    session: AsyncSession, request_id: uuid.UUID, values: dict[str, Any]
) -> bool:
    """Close the request with ``values`` if it is still open; false if someone decided first."""
    result = await session.execute(
        update(UnblockRequest)
        .where(UnblockRequest.id == request_id, UnblockRequest.status == "open")
        .values(open_key=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]
