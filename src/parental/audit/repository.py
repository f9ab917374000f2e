from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.audit.models import AuditEvent


async def add(session: AsyncSession, event: AuditEvent) -> None:
    session.add(event)
    await session.flush()


async def list_events(
    session: AsyncSession,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
    child_id: uuid.UUID | None = None,
    child_visible_only: bool = False,
) -> list[AuditEvent]:
    query = select(AuditEvent)
    if child_id is not None:
        query = query.where(AuditEvent.child_id == child_id)
    if child_visible_only:
        query = query.where(AuditEvent.child_visible.is_(True))
    if before is not None:
        at, row_id = before
        query = query.where(
            or_(
                AuditEvent.occurred_at < at,
                and_(AuditEvent.occurred_at == at, AuditEvent.id < row_id),
            )
        )
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def purge(session: AsyncSession, before: datetime) -> int:
    """Delete the events that happened before ``before``; how many went."""
    result = await session.execute(
        delete(AuditEvent).where(AuditEvent.occurred_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
