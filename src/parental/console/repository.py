"""Read-only queries the console's overview pages need and no service offers: totals across
every child, the open reports' count, and the audit log filtered by actor and action."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.activity.models import VerdictCount
from filters.reports.models import FilterReport
from parental.audit.models import AuditEvent


async def open_reports(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(FilterReport).where(FilterReport.status == "open")
    )
    return int(count or 0)


async def verdict_totals(session: AsyncSession, *, since: date) -> dict[date, dict[str, int]]:
    """Lookups per day (children's local days) and action, every child together."""
    rows = await session.execute(
        select(VerdictCount.day, VerdictCount.action, func.sum(VerdictCount.count))
        .where(VerdictCount.day >= since)
        .group_by(VerdictCount.day, VerdictCount.action)
    )
    out: dict[date, dict[str, int]] = {}
    for day, action, total in rows:
        out.setdefault(day, {})[action] = int(total or 0)
    return out


async def audit_events(
    session: AsyncSession,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
    actor: str | None,
    action_prefix: str | None,
) -> list[AuditEvent]:
    """Staff and system events, newest first (``actor``: ``staff:<id>`` or ``system``)."""
    query = select(AuditEvent).where(AuditEvent.actor_type.in_(("staff", "system")))
    if actor is not None:
        kind, _, actor_id = actor.partition(":")
        query = query.where(AuditEvent.actor_type == kind)
        if actor_id:
            query = query.where(AuditEvent.actor_id == actor_id)
    if action_prefix:
        query = query.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
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
