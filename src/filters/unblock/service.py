"""Unblock requests: a child asks from the block page, a guardian decides, retention.

A decision to allow becomes an allow entry in the child's profile (exact name, not its
subdomains: the child asked for this name), expiring unless it is ``allow_always``; the
profile's own expiry then blocks the name again without anyone acting.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from filters.profiles import service as profiles
from filters.profiles.models import FilterProfile
from filters.profiles.schemas import EntryCreate
from filters.unblock import repository
from filters.unblock.errors import (
    InvalidUnblockDecision,
    UnblockRequestAlreadyDecided,
    UnblockRequestNotFound,
)
from filters.unblock.events import UnblockRequested
from filters.unblock.models import UnblockRequest
from filters.unblock.schemas import UnblockDecisionCreate, UnblockRequestPage, UnblockRequestRead
from parental.kit.events import EventBus
from parental.kit.paging import decode_cursor, encode_cursor


async def ask(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    host: str,
    category: str | None,
    now: datetime,
    bus: EventBus,
) -> UnblockRequest:
    """File a request, or add to the open one for this child and name; tell subscribers."""
    key = hashlib.sha256(f"{child_id} {host}".encode()).hexdigest()
    values = {
        "child_id": child_id,
        "host": host,
        "category": category,
        "open_key": key,
        "status": "open",
        "ask_count": 0,
        "created_at": now,
        "last_asked_at": now,
    }
    while True:
        request = await repository.open_request(session, {"id": uuid.uuid4(), **values}, key)
        if request is not None:
            break
        # Decided between our insert and our read (a race of milliseconds): open a new one.
    await repository.count_ask(session, request.id, now)
    await session.refresh(request)
    await bus.publish(
        UnblockRequested(
            occurred_at=now,
            request_id=request.id,
            child_id=child_id,
            host=host,
            category=category,
            ask_count=request.ask_count,
        )
    )
    return request


async def get(session: AsyncSession, child_id: uuid.UUID, request_id: uuid.UUID) -> UnblockRequest:
    """The child's request, or 404 (another child's id is as unknown as a made-up one)."""
    request = await repository.get_for_child(session, child_id, request_id)
    if request is None:
        raise UnblockRequestNotFound()
    return request


def _allowed_until(
    body: UnblockDecisionCreate, *, now: datetime, allow_once: timedelta
) -> datetime | None:
    if body.decision == "allow_once":
        return now + allow_once
    if body.decision == "allow_for":
        if (body.duration_minutes is None) == (body.until is None):
            raise InvalidUnblockDecision()
        if body.until is not None:
            if body.until.tzinfo is None or body.until <= now:
                raise InvalidUnblockDecision()
            return body.until
        assert body.duration_minutes is not None
        return now + timedelta(minutes=body.duration_minutes)
    return None


async def decide(
    session: AsyncSession,
    request: UnblockRequest,
    body: UnblockDecisionCreate,
    *,
    profile: FilterProfile,
    actor: str,
    now: datetime,
    allow_once: timedelta,
) -> UnblockRequest:
    """Allow (an entry in ``profile``) or deny an open request; a decided one is 409."""
    if body.decision != "allow_for" and (body.duration_minutes or body.until):
        raise InvalidUnblockDecision("duration_minutes and until go with allow_for only.")
    until = _allowed_until(body, now=now, allow_once=allow_once)
    if request.status != "open":
        raise UnblockRequestAlreadyDecided()
    entry_id = None
    if body.decision != "deny":
        entry = await profiles.add_entry(
            session,
            profile,
            EntryCreate(host=request.host, action="allow", subdomains=False, expires_at=until),
            actor=actor,
            now=now,
        )
        entry_id = entry.id
    decided = await repository.mark_decided(
        session,
        request.id,
        {
            "status": "denied" if body.decision == "deny" else "allowed",
            "decision": body.decision,
            "allowed_until": until,
            "decided_by": actor,
            "decided_at": now,
            "entry_id": entry_id,
        },
    )
    if not decided:
        raise UnblockRequestAlreadyDecided()
    await session.refresh(request)
    return request


async def page(
    session: AsyncSession, child_id: uuid.UUID, *, limit: int, cursor: str | None
) -> UnblockRequestPage:
    """The child's requests, newest first, with their answers."""
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.page(session, child_id, limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    return UnblockRequestPage(
        items=[UnblockRequestRead.model_validate(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None,
    )


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete requests decided, or last asked for while open, before ``before``."""
    return await repository.purge(session, decided_before=before, open_before=before)
