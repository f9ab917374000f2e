from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.children.models import Child
from parental.lines.models import Line


async def add(session: AsyncSession, child: Child) -> None:
    session.add(child)
    await session.flush()


async def get(session: AsyncSession, child_id: uuid.UUID) -> Child | None:
    return await session.get(Child, child_id)


async def by_line(session: AsyncSession, line_id: uuid.UUID) -> Child | None:
    result: Child | None = await session.scalar(select(Child).where(Child.line_id == line_id))
    return result


async def list_with_lines(session: AsyncSession, family_id: uuid.UUID) -> list[tuple[Child, Line]]:
    rows = await session.execute(
        select(Child, Line)
        .join(Line, Line.id == Child.line_id)
        .where(Child.family_id == family_id)
        .order_by(Child.created_at, Child.id)
    )
    return [(c, line) for c, line in rows.all()]


async def delete(session: AsyncSession, child: Child) -> None:
    await session.delete(child)
    await session.flush()
