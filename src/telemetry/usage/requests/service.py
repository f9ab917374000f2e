"""The child's requests: extra time today, and leave to install an app. The child's device
asks, a guardian answers.

- Extra time is asked for one app or one category, 1 to 240 minutes, for the child's local
  today. Approving grants the minutes asked for (or as many as the guardian says instead)
  through ``telemetry.usage.rules.service.grant_extra_time``, so the device's policy changes
  at once.
  Unanswered by the child's next local midnight, the request reads as ``expired`` and can no
  longer be answered (409).
- An install request names an app id and its name. Asking again while one for the app is
  pending returns that one (nothing new is stored or announced). The latest answer for each
  app is in the device's policy; a declined app is blocked there.
- A child has at most ``max_pending`` requests pending (409 ``TooManyPendingRequests``); an
  answered or expired one no longer counts. A request is answered once (409 after).
- Lists are newest first, or the pending ones first; ``status`` filters them.

Services run in the caller's transaction and never commit; a new request's event is returned
for the caller to publish once committed.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.events import Event
from parental.kit.paging import InvalidCursor, decode_cursor, encode_cursor
from parental.kit.weekly import day_start
from telemetry.usage.events import AppInstallRequested, ExtraTimeRequested
from telemetry.usage.policy import Category
from telemetry.usage.requests import repository
from telemetry.usage.requests.errors import (
    InvalidRequestDecision,
    ScreenTimeRequestAlreadyDecided,
    ScreenTimeRequestExpired,
    ScreenTimeRequestNotFound,
    TooManyPendingRequests,
)
from telemetry.usage.requests.models import ScreenTimeRequest
from telemetry.usage.requests.schemas import (
    AppInstallRequestCreate,
    ExtraTimeRequestCreate,
    RequestDecisionCreate,
    RequestOrder,
    RequestStatus,
    ScreenTimeRequestPage,
    ScreenTimeRequestRead,
)
from telemetry.usage.rules import service as rules
from telemetry.usage.rules.schemas import ExtraTimeTarget
from telemetry.usage.service import local_today


@dataclass(frozen=True)
class Asked:
    """What an ask did: the request, whether it is new, and the event to publish if so."""

    request: ScreenTimeRequestRead
    event: Event | None

    @property
    def created(self) -> bool:
        return self.event is not None


@dataclass(frozen=True)
class Decided:
    """An answered request, and the rules' revision if extra time was granted."""

    request: ScreenTimeRequestRead
    revision: int | None

    @property
    def policy_changed(self) -> bool:
        """Whether the device's policy changed: extra time granted, or any install answer
        (the policy carries it, and a declined app is blocked there)."""
        return self.revision is not None or self.request.kind == repository.INSTALL


def status_of(row: ScreenTimeRequest, now: datetime) -> RequestStatus:
    """The request's status at ``now``: a pending one past ``expires_at`` is expired."""
    if row.status == repository.PENDING:
        if row.expires_at is not None and row.expires_at <= now:
            return "expired"
        return "pending"
    return "approved" if row.status == "approved" else "declined"


def read(row: ScreenTimeRequest, now: datetime) -> ScreenTimeRequestRead:
    return ScreenTimeRequestRead.model_validate(row).model_copy(
        update={"status": status_of(row, now)}
    )


def _install_key(child_id: uuid.UUID, app: str) -> str:
    return hashlib.sha256(f"{child_id} {app}".encode()).hexdigest()


async def ask(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID,
    body: ExtraTimeRequestCreate | AppInstallRequestCreate,
    now: datetime,
    zone: ZoneInfo,
    max_pending: int,
) -> Asked:
    """File the child's request (module doc); an install already pending is returned as is."""
    key = None
    if isinstance(body, AppInstallRequestCreate):
        key = _install_key(child_id, body.app)
        existing = await repository.pending_install(session, key)
        if existing is not None:
            return Asked(read(existing, now), None)
    if await repository.count_pending(session, child_id, now) >= max_pending:
        raise TooManyPendingRequests(
            f"{max_pending} requests are waiting for an answer; wait for one before asking again."
        )
    values = {
        "id": uuid.uuid4(),
        "child_id": child_id,
        "device_id": device_id,
        "kind": body.kind,
        "app": body.app,
        "message": body.message,
        "status": repository.PENDING,
        "created_at": now,
        "updated_at": now,
    }
    event: Event
    if isinstance(body, AppInstallRequestCreate):
        assert key is not None
        row = await repository.open_install(
            session, {**values, "app_name": body.app_name, "open_key": key}
        )
        if row.id != values["id"]:
            return Asked(read(row, now), None)  # asked twice at once: the other one won
        event = AppInstallRequested(
            occurred_at=now,
            request_id=row.id,
            child_id=child_id,
            app=body.app,
            app_name=body.app_name,
            message=body.message,
        )
    else:
        day = local_today(now, zone)
        row = await repository.add(
            session,
            {
                **values,
                "category": body.category,
                "minutes": body.minutes,
                "day": day,
                "expires_at": day_start(day + timedelta(days=1), zone),
            },
        )
        event = ExtraTimeRequested(
            occurred_at=now,
            request_id=row.id,
            child_id=child_id,
            app=body.app,
            category=body.category,
            minutes=body.minutes,
            message=body.message,
        )
    return Asked(read(row, now), event)


def _cursor(row: ScreenTimeRequest, rank: int, pending_first: bool) -> str:
    cursor = encode_cursor(row.created_at, row.id)
    return f"{rank}.{cursor}" if pending_first else cursor


def _keyset(cursor: str, pending_first: bool) -> repository.Keyset:
    rank = 0
    if pending_first:
        head, dot, cursor = cursor.partition(".")
        if not dot or head not in ("0", "1"):
            raise InvalidCursor()
        rank = int(head)
    elif "." in cursor:
        raise InvalidCursor()  # a cursor of the other order
    at, row_id = decode_cursor(cursor)
    return rank, at, row_id


async def page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    now: datetime,
    status: RequestStatus | None = None,
    order: RequestOrder = "newest",
    limit: int,
    cursor: str | None,
) -> ScreenTimeRequestPage:
    """The child's requests with their answers (module doc)."""
    pending_first = order == "pending_first"
    rows = await repository.page(
        session,
        child_id,
        now=now,
        status=status,
        pending_first=pending_first,
        limit=limit + 1,
        after=_keyset(cursor, pending_first) if cursor else None,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    return ScreenTimeRequestPage(
        items=[read(row, now) for row, _ in rows],
        next_cursor=None if last is None else _cursor(*last, pending_first),
    )


async def get(
    session: AsyncSession, child_id: uuid.UUID, request_id: uuid.UUID
) -> ScreenTimeRequest:
    """The child's request, or 404 (another child's id is as unknown as a made-up one)."""
    row = await repository.get_for_child(session, child_id, request_id)
    if row is None:
        raise ScreenTimeRequestNotFound()
    return row


async def decide(
    session: AsyncSession,
    row: ScreenTimeRequest,
    body: RequestDecisionCreate,
    *,
    decided_by: str,
    now: datetime,
    zone: ZoneInfo,
) -> Decided:
    """Approve or decline a pending request; extra time approved is granted for the child's
    today. Answered before: 409; expired: 409; minutes for an install: 400."""
    if row.kind == repository.INSTALL and body.minutes is not None:
        raise InvalidRequestDecision()
    status = status_of(row, now)
    if status == "expired":
        raise ScreenTimeRequestExpired()
    if status != "pending":
        raise ScreenTimeRequestAlreadyDecided()
    approve = body.decision == "approve"
    minutes = None
    if approve and row.kind == repository.EXTRA_TIME:
        minutes = body.minutes or row.minutes
    answered = await repository.mark_decided(
        session,
        row.id,
        now,
        {
            "status": "approved" if approve else "declined",
            "decided_by": decided_by,
            "granted_minutes": minutes,
            "reply": body.reply,
        },
    )
    if not answered:
        raise ScreenTimeRequestAlreadyDecided()
    revision = None
    if minutes is not None:
        granted = await rules.grant_extra_time(
            session,
            row.child_id,
            ExtraTimeTarget(
                app=row.app,
                category=None if row.category is None else Category(row.category),
                minutes=minutes,
            ),
            granted_by=decided_by,
            now=now,
            today=local_today(now, zone),
        )
        revision = granted.revision
    await session.refresh(row)
    return Decided(read(row, now), revision)


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete requests last changed before ``before``; each app's install answer in force
    stays (without its texts) until a newer answer or the child's removal."""
    return await repository.purge(session, before=before)


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    """Delete a removed child's requests; how many went."""
    count = await repository.erase_child(session, child_id)
    return {"screen_time_requests": count} if count else {}
