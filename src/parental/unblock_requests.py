"""Wiring unblock requests into the API: the child asks from the block page (see
``parental.blockpage``), its guardians list and decide them, its devices see the answers.

Every step is a child-visible audit row: the child is told what was asked and what the
guardian decided, as for every other change to the child's filtering.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from filters.unblock import service as unblock
from filters.unblock.errors import (
    InvalidUnblockDecision,
    UnblockRequestAlreadyDecided,
    UnblockRequestNotFound,
)
from filters.unblock.models import UnblockRequest
from filters.unblock.schemas import UnblockDecisionCreate, UnblockRequestPage, UnblockRequestRead
from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound
from parental.children.models import Child
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.filtering import child_profile
from parental.kit.db import after_commit
from parental.kit.errors import error_responses
from parental.kit.events import HeldEvents
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.kit.ratelimit import Rule
from parental.notifications.notify import notify
from parental.runtime import Runtime

router = APIRouter(tags=["unblock requests"])

CHILD_REQUESTS = "/children/{child_id}/unblock-requests"


async def ask(
    session: AsyncSession,
    runtime: Runtime,
    child: Child,
    *,
    line_id: uuid.UUID,
    host: str,
    category: str | None,
) -> UnblockRequest:
    """File the child's request from the block page: limited per line, audited for the child.

    No address is stored: the line is how the page knew the child, and that is all it keeps.
    """
    await runtime.limiter.hit(
        Rule("unblock-request:line", runtime.settings.limit_unblock_requests_per_line),
        str(line_id),
    )
    now = runtime.clock.now()
    held = HeldEvents()
    request = await unblock.ask(
        session, child_id=child.id, host=host, category=category, now=now, bus=held
    )
    await notify(session, runtime, held.events)  # the guardians' notifications, atomically
    await held.publish_to(runtime.bus)
    await audit.record(
        session,
        at=now,
        action="filter.unblock_requested",
        actor=audit.Actor("system", "block_page"),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="unblock_request",
        subject_id=request.id,
        child_visible=True,
        details={"host": host, "category": category},
    )
    return request


@router.get(
    CHILD_REQUESTS, responses=error_responses(InvalidAccessToken, ChildNotFound, InvalidCursor)
)
async def list_child_unblock_requests(
    child: OwnedChild,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> UnblockRequestPage:
    """The child's requests to open blocked names, newest first, with their status."""
    return await unblock.page(session, child.id, limit=limit, cursor=cursor)


@router.post(
    CHILD_REQUESTS + "/{request_id}/decision",
    responses=error_responses(
        InvalidAccessToken,
        ChildNotFound,
        UnblockRequestNotFound,
        UnblockRequestAlreadyDecided,
        InvalidUnblockDecision,
    ),
)
async def create_unblock_decision(
    request_id: uuid.UUID,
    body: UnblockDecisionCreate,
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> UnblockRequestRead:
    """Allow the name once, for a time or always (an entry in the child's profile), or deny."""
    now = runtime.clock.now()
    request = await unblock.decide(
        session,
        await unblock.get(session, child.id, request_id),
        body,
        profile=await child_profile(session, runtime, child),
        actor=f"guardian:{account.id}",
        now=now,
        allow_once=timedelta(minutes=runtime.settings.unblock_allow_once_minutes),
    )
    # Every process filters with the new entry once it is committed.
    after_commit(session, lambda: runtime.forget_subjects([child.id]))
    await audit.record(
        session,
        at=now,
        action="filter.unblock_decided",
        actor=audit.Actor("guardian", str(account.id)),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="unblock_request",
        subject_id=request.id,
        child_visible=True,
        ip=ip,
        details={
            "host": request.host,
            "decision": request.decision,
            "allowed_until": request.allowed_until.isoformat() if request.allowed_until else None,
        },
    )
    return UnblockRequestRead.model_validate(request)


@router.get(
    "/device/unblock-requests", responses=error_responses(InvalidDeviceToken, InvalidCursor)
)
async def list_own_unblock_requests(
    device: CurrentDevice,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> UnblockRequestPage:
    """The child's own requests to open blocked names, and their parents' answers."""
    return await unblock.page(session, device.child_id, limit=limit, cursor=cursor)
