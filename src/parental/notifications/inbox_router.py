"""The guardian's in-app inbox (``inbox`` says what is in it): every notification the caller
was sent, read or not, so nothing depends on push delivery alone."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.deps import ClockDep, SessionDep
from parental.kit.errors import error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.notifications import inbox
from parental.notifications.errors import NotificationNotFound
from parental.notifications.schemas import NotificationPage, NotificationRead, NotificationsRead

router = APIRouter(tags=["notifications"], responses=error_responses(InvalidAccessToken))


@router.get("/notifications", responses=error_responses(InvalidCursor))
async def list_notifications(
    account: CurrentAccount,
    session: SessionDep,
    unread: Annotated[bool, Query(description="Only the unread ones.")] = False,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> NotificationPage:
    """The caller's notifications, newest first, and how many are unread."""
    return await inbox.page(session, account.id, unread_only=unread, limit=limit, cursor=cursor)


@router.post(
    "/notifications/{notification_id}/read", responses=error_responses(NotificationNotFound)
)
async def mark_notification_read(
    notification_id: uuid.UUID, account: CurrentAccount, session: SessionDep, clock: ClockDep
) -> NotificationRead:
    """Mark one of the caller's notifications read."""
    return await inbox.mark_read(session, account.id, notification_id, clock.now())


@router.post("/notifications/read")
async def mark_notifications_read(
    account: CurrentAccount, session: SessionDep, clock: ClockDep
) -> NotificationsRead:
    """Mark all of the caller's notifications read."""
    return NotificationsRead(marked=await inbox.mark_all_read(session, account.id, clock.now()))
