from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parental.lines.models import Line, LineBinding, ServiceKey


async def add(session: AsyncSession, row: Line | ServiceKey | LineBinding) -> None:
    session.add(row)
    await session.flush()


async def get_line(session: AsyncSession, line_id: uuid.UUID) -> Line | None:
    return await session.get(Line, line_id)


async def get_line_by_msisdn(session: AsyncSession, msisdn: str) -> Line | None:
    result: Line | None = await session.scalar(select(Line).where(Line.msisdn == msisdn))
    return result


async def get_service_key(session: AsyncSession, key_hash: str) -> ServiceKey | None:
    result: ServiceKey | None = await session.scalar(
        select(ServiceKey).where(ServiceKey.key_hash == key_hash)
    )
    return result


async def get_service_key_by_name(session: AsyncSession, name: str) -> ServiceKey | None:
    result: ServiceKey | None = await session.scalar(
        select(ServiceKey).where(ServiceKey.name == name)
    )
    return result


async def binding_by_session(session: AsyncSession, session_id: str) -> LineBinding | None:
    result: LineBinding | None = await session.scalar(
        select(LineBinding).where(LineBinding.session_id == session_id)
    )
    return result


def _live(now: datetime) -> ColumnElement[bool]:
    return and_(LineBinding.ended_at.is_(None), LineBinding.expires_at > now)


async def end_bindings(
    session: AsyncSession,
    *,
    now: datetime,
    reason: str,
    network: str | None = None,
    line_id: uuid.UUID | None = None,
    keep_session: str | None = None,
) -> int:
    """End the live bindings of a network or of a line (all but ``keep_session``'s)."""
    query = update(LineBinding).where(_live(now))
    if network is not None:
        query = query.where(LineBinding.network == network)
    if line_id is not None:
        query = query.where(LineBinding.line_id == line_id)
    if keep_session is not None:
        query = query.where(LineBinding.session_id != keep_session)
    result = await session.execute(
        query.values(ended_at=now, end_reason=reason, expires_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def live_bindings_in(
    session: AsyncSession, networks: list[str], now: datetime
) -> list[tuple[LineBinding, Line]]:
    """The live bindings of any of ``networks``, with their lines, newest first."""
    rows = await session.execute(
        select(LineBinding, Line)
        .join(Line, Line.id == LineBinding.line_id)
        .where(LineBinding.network.in_(networks), _live(now))
        .order_by(LineBinding.started_at.desc())
    )
    return [(binding, line) for binding, line in rows]


LiveRow = tuple[str, uuid.UUID, datetime]  # network, line id, expiry


async def live_rows(
    session: AsyncSession, now: datetime, networks: list[str] | None = None
) -> list[LiveRow]:
    """Every live binding (or those of ``networks``) as plain tuples, oldest start first, so a
    later binding of the same network overrides an earlier one when applied in order."""
    query = select(LineBinding.network, LineBinding.line_id, LineBinding.expires_at).where(
        _live(now)
    )
    if networks is not None:
        query = query.where(LineBinding.network.in_(networks))
    result = await session.execute(query.order_by(LineBinding.started_at))
    return [(network, line_id, expires) for network, line_id, expires in result]


ChangeRow = tuple[uuid.UUID, str, datetime, datetime | None, datetime]


async def changed_since(session: AsyncSession, since: datetime) -> list[ChangeRow]:
    """(id, network, expiry, end, updated) of every binding changed after ``since``."""
    result = await session.execute(
        select(
            LineBinding.id,
            LineBinding.network,
            LineBinding.expires_at,
            LineBinding.ended_at,
            LineBinding.updated_at,
        ).where(LineBinding.updated_at > since)
    )
    return [tuple(row) for row in result]  # type: ignore[misc]


async def purge_bindings(session: AsyncSession, before: datetime) -> int:
    """Delete bindings that lapsed or ended before ``before``."""
    result = await session.execute(delete(LineBinding).where(LineBinding.expires_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
