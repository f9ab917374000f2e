"""A guardian's in-app inbox: the notifications written for them (the outbox rows), newest
first, read or unread, whether or not a phone received them.

A notification held by quiet hours is in the inbox at once (the app shows it when opened); a
kind the guardian switched off makes no row, so it is in neither. Rows go with the outbox's
retention (``push_outbox_retention_days``). Another guardian's notification is as unknown as
a made-up id (404).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.paging import decode_cursor, encode_cursor
from parental.notifications.errors import NotificationNotFound
from parental.notifications.models import PushOutboxRow
from parental.notifications.schemas import NotificationPage, NotificationRead


def item_read(row: PushOutboxRow) -> NotificationRead:
    payload = row.payload
    return NotificationRead(
        id=row.id,
        kind=row.kind,
        title=payload.get("title"),
        body=payload.get("body"),
        data=dict(payload.get("data") or {}),
        created_at=row.created_at,
        read_at=row.read_at,
    )


async def page(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    unread_only: bool,
    limit: int,
    cursor: str | None,
) -> NotificationPage:
    """The account's notifications, newest first, with how many are unread in all."""
    mine = PushOutboxRow.account_id == account_id
    query = select(PushOutboxRow).where(mine)
    if unread_only:
        query = query.where(PushOutboxRow.read_at.is_(None))
    if cursor is not None:
        at, row_id = decode_cursor(cursor)
        query = query.where(
            or_(
                PushOutboxRow.created_at < at,
                and_(PushOutboxRow.created_at == at, PushOutboxRow.id < row_id),
            )
        )
    query = query.order_by(PushOutboxRow.created_at.desc(), PushOutboxRow.id.desc())
    rows = list(await session.scalars(query.limit(limit + 1)))
    unread = await session.scalar(
        select(func.count()).select_from(PushOutboxRow).where(mine, PushOutboxRow.read_at.is_(None))
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return NotificationPage(
        items=[item_read(row) for row in rows[:limit]],
        next_cursor=encode_cursor(last.created_at, last.id) if last is not None else None,
        unread=int(unread or 0),
    )


async def mark_read(
    session: AsyncSession, account_id: uuid.UUID, notification_id: uuid.UUID, now: datetime
) -> NotificationRead:
    """Mark one of the account's notifications read (again: nothing changes)."""
    row = await session.scalar(
        select(PushOutboxRow).where(
            PushOutboxRow.id == notification_id, PushOutboxRow.account_id == account_id
        )
    )
    if row is None:
        raise NotificationNotFound()
    if row.read_at is None:
        row.read_at = now
        await session.flush()
    return item_read(row)


async def mark_all_read(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> int:
    """Mark every unread notification of the account read; how many were."""
    result = await session.execute(
        update(PushOutboxRow)
        .where(PushOutboxRow.account_id == account_id, PushOutboxRow.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
