from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from filters.profiles.models import FilterProfile, FilterProfileEntry


async def add(session: AsyncSession, row: FilterProfile | FilterProfileEntry) -> None:
    session.add(row)
    await session.flush()


async def add_profile_once(session: AsyncSession, row: FilterProfile) -> FilterProfile:
    """Store a child's new profile, or return the one a concurrent request stored first.

    On PostgreSQL the insert runs in a savepoint, so losing the race leaves the caller's
    transaction usable. SQLite serialises writers and the embedded default runs one process.
    """
    if session.get_bind().dialect.name != "postgresql":
        await add(session, row)
        return row
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = await by_child(session, row.child_id)
        if existing is None:
            raise
        return existing
    return row


async def by_child(session: AsyncSession, child_id: uuid.UUID) -> FilterProfile | None:
    result: FilterProfile | None = await session.scalar(
        select(FilterProfile).where(FilterProfile.child_id == child_id)
    )
    return result


async def get(session: AsyncSession, profile_id: uuid.UUID) -> FilterProfile | None:
    return await session.get(FilterProfile, profile_id)


async def entries(session: AsyncSession, profile_id: uuid.UUID) -> list[FilterProfileEntry]:
    rows = await session.scalars(
        select(FilterProfileEntry)
        .where(FilterProfileEntry.profile_id == profile_id)
        .order_by(FilterProfileEntry.created_at, FilterProfileEntry.id)
    )
    return list(rows.all())


async def delete(session: AsyncSession, row: FilterProfileEntry) -> None:
    await session.delete(row)
    await session.flush()
