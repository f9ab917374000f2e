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


async def list_for_child(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
    child_visible_only: bool,
) -> list[AuditEvent]:
    """A child's events, newest first."""
    return await repository.list_events(
        session,
        child_id=child_id,
        limit=limit,
        before=before,
        child_visible_only=child_visible_only,
    )


async def list_all(
    session: AsyncSession, *, limit: int, before: tuple[datetime, uuid.UUID] | None
) -> list[AuditEvent]:
    """Every event, newest first (staff view)."""
    return await repository.list_events(session, limit=limit, before=before)
