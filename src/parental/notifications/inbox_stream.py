"""The guardian's inbox as Server-Sent Events: each new notification as it is committed.

A commit that wrote notifications tells each recipient's inbox channel the new row ids
(``live``); every open stream of that guardian, in any process, reads those rows from the
database (only the guardian's own: a notice is a hint, never trusted for whose rows they are)
and sends each as a ``notification`` event whose data is exactly the item of
``GET /v1/notifications`` and whose ``id`` is the row's id. A client reconnecting with
``Last-Event-ID`` first gets its notifications written after that one (oldest first, at most
``RESUME_LIMIT``; the inbox page has the rest). Comments keep idle connections open through
proxies, and the stream ends after its lifetime so the token is checked again on reconnecting.

The stream subscribes before it reads what it missed, so a notification committed in between
is not lost (it may come twice: the second is dropped by its id).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence

from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from parental.kit.notices import Notices
from parental.notifications import live
from parental.notifications.inbox import item_read
from parental.notifications.models import PushOutboxRow

log = logging.getLogger(__name__)

EVENT = "notification"
RECONNECT_MS = 5000
RESUME_LIMIT = 100

_ORDER = (PushOutboxRow.created_at, PushOutboxRow.id)


async def rows_by_id(
    session: AsyncSession, account_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[PushOutboxRow]:
    """The account's rows among ``ids``, oldest first (another account's are left out)."""
    if not ids:
        return []
    query = select(PushOutboxRow).where(
        PushOutboxRow.account_id == account_id, PushOutboxRow.id.in_(ids)
    )
    return list(await session.scalars(query.order_by(*_ORDER)))


async def rows_after(
    session: AsyncSession, account_id: uuid.UUID, last_id: uuid.UUID, *, limit: int
) -> list[PushOutboxRow]:
    """The account's rows written after its row ``last_id``, oldest first; none when that row
    is not the account's (or is gone)."""
    last = await session.scalar(
        select(PushOutboxRow.created_at).where(
            PushOutboxRow.id == last_id, PushOutboxRow.account_id == account_id
        )
    )
    if last is None:
        return []
    query = select(PushOutboxRow).where(
        PushOutboxRow.account_id == account_id,
        or_(
            PushOutboxRow.created_at > last,
            and_(PushOutboxRow.created_at == last, PushOutboxRow.id > last_id),
        ),
    )
    return list(await session.scalars(query.order_by(*_ORDER).limit(limit)))


def _event(row: PushOutboxRow) -> bytes:
    return format_sse_event(data_str=item_read(row).model_dump_json(), event=EVENT, id=str(row.id))


async def notification_events(
    sessions: async_sessionmaker[AsyncSession],
    notices: Notices,
    account_id: uuid.UUID,
    *,
    last_event_id: uuid.UUID | None,
    heartbeat: float,
    lifetime: float,
) -> AsyncIterator[bytes]:
    """The stream's bytes: an opening comment once subscribed, the missed notifications after
    ``last_event_id``, then an event per new one and a comment after ``heartbeat`` seconds
    without one, until ``lifetime`` seconds have passed."""
    try:
        subscription = await notices.open(live.inbox_channel(account_id))
    except Exception:
        # Nothing was sent yet: the client sees the stream end and reconnects after a while.
        log.warning("opening a notification stream failed", exc_info=True)
        return
    sent: set[uuid.UUID] = set()

    def fresh(rows: Sequence[PushOutboxRow]) -> list[bytes]:
        new = [row for row in rows if row.id not in sent]
        sent.update(row.id for row in new)
        return [_event(row) for row in new]

    try:
        yield format_sse_event(comment="open", retry=RECONNECT_MS)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lifetime
        if last_event_id is not None:
            async with sessions() as session:
                missed = await rows_after(session, account_id, last_event_id, limit=RESUME_LIMIT)
            for chunk in fresh(missed):
                yield chunk
        while (left := deadline - loop.time()) > 0:
            message = await subscription.next(min(heartbeat, left))
            if message is None:
                yield KEEPALIVE_COMMENT
                continue
            async with sessions() as session:
                rows = await rows_by_id(session, account_id, live.parse_ids(message))
            for chunk in fresh(rows):
                yield chunk
    finally:
        await subscription.close()
