"""Writing and reading the audit log. There is no update and no delete here: rows are only
appended, and only the retention purge removes them once they expire."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from parental.audit import repository
from parental.audit.models import AuditEvent
from parental.audit.schemas import AuditEventPage
from parental.kit.paging import decode_cursor

ActorType = Literal["guardian", "device", "staff", "carrier", "system"]


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: str | None = None


async def record(
    session: AsyncSession,
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
) -> AuditEvent:
    """Append one event; it is written in the caller's transaction, with the change it records."""
    event = AuditEvent(
        occurred_at=at,
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        family_id=family_id,
        child_id=child_id,
        subject_type=subject_type,
        subject_id=str(subject_id) if subject_id is not None else None,
        child_visible=child_visible,
        ip=ip,
        details=details or {},
    )
    await repository.add(session, event)
    return event


async def child_page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    child_visible_only: bool,
) -> AuditEventPage:
    """A page of a child's events, newest first."""
    rows = await repository.list_events(
        session,
        child_id=child_id,
        limit=limit + 1,
        before=decode_cursor(cursor) if cursor else None,
        child_visible_only=child_visible_only,
    )
    return AuditEventPage.of(rows, limit)


async def page(session: AsyncSession, *, limit: int, cursor: str | None) -> AuditEventPage:
    """A page of every event, newest first (staff view)."""
    rows = await repository.list_events(
        session, limit=limit + 1, before=decode_cursor(cursor) if cursor else None
    )
    return AuditEventPage.of(rows, limit)


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete the events that happened before ``before`` (the retention purge's only delete
    here); how many went."""
    return await repository.purge(session, before)
