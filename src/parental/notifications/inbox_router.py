"""The guardian's in-app inbox (``inbox`` says what is in it): every notification the caller
was sent, read or not, and a live stream of the new ones (``inbox_stream``), so nothing depends
on push delivery alone."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.deps import ClockDep, RuntimeDep, SessionDep
from parental.kit.errors import error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.notifications import inbox, inbox_stream
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


@router.get(
    "/notifications/stream",
    responses={
        200: {
            "description": "``notification`` events (data: a NotificationRead, id: its id) as "
            "notifications are written for the caller, and a comment line when nothing "
            "happened for 15 seconds.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def get_notification_stream(
    account: CurrentAccount,
    runtime: RuntimeDep,
    last_event_id: Annotated[
        uuid.UUID | None,
        Header(
            alias="Last-Event-ID",
            description="The id of the last notification received: the ones written after it "
            f"(at most {inbox_stream.RESUME_LIMIT}) are sent first.",
        ),
    ] = None,
) -> StreamingResponse:
    """The caller's new notifications as they are written (Server-Sent Events). The stream
    ends after an hour; reconnect to go on."""
    settings = runtime.settings
    # Not FastAPI's generator-route SSE: that would keep the request's session open for as
    # long as the stream; this one reads in short sessions of its own.
    return StreamingResponse(
        inbox_stream.notification_events(
            runtime.sessions,
            runtime.notices,
            account.id,
            last_event_id=last_event_id,
            heartbeat=settings.notification_stream_heartbeat_seconds,
            lifetime=settings.notification_stream_max_seconds,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


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
