"""Routes of the child's requests: the child's device asks for extra time or an app install
and sees the answers; a guardian lists the child's requests and answers them.

As in ``telemetry.usage.rules.router``, the package cannot know who is calling: the composition
root passes dependencies that give a ``Guardian`` (of the child in the path, while monitoring
applies to the child; each answer is audited for the child, and one that changes the device's
policy wakes the child's devices) or a ``ChildDevice`` (the calling
device, while monitoring applies; the one that writes is also held to its rate). A new request
is announced on the event bus once committed (``telemetry.usage.events``).
"""

# No `from __future__ import annotations`: the routes below are built inside the factories and
# their annotations name local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi import status as http_status

from parental.kit.errors import AppError, error_responses
from parental.kit.events import Event
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from telemetry.usage.callers import ChildCaller, DeviceCaller
from telemetry.usage.requests import service
from telemetry.usage.requests.errors import (
    InvalidRequestDecision,
    ScreenTimeRequestAlreadyDecided,
    ScreenTimeRequestExpired,
    ScreenTimeRequestNotFound,
    TooManyPendingRequests,
)
from telemetry.usage.requests.schemas import (
    AppInstallRequestCreate,
    ExtraTimeRequestCreate,
    RequestDecisionCreate,
    RequestOrder,
    RequestStatus,
    ScreenTimeRequestPage,
    ScreenTimeRequestRead,
)

CHILD_REQUESTS = "/children/{child_id}/screen-time/requests"
DEVICE_REQUESTS = "/device/screen-time/requests"


class Guardian(ChildCaller, Protocol):
    """A guardian of one child, while monitoring applies to the child."""

    @property
    def account_id(self) -> str: ...

    async def changed(
        self,
        action: str,
        subject_type: str,
        subject_id: uuid.UUID,
        details: dict[str, Any],
        *,
        policy_changed: bool,
    ) -> None:
        """Record the change in the audit log the child sees, in the request's transaction;
        with ``policy_changed``, also tell the child's devices to fetch their policy now."""
        ...


class ChildDevice(DeviceCaller, Protocol):
    """The calling device of a child, while monitoring applies to the child."""

    @property
    def max_pending_requests(self) -> int:
        """How many requests the child may have waiting for an answer at once."""
        ...

    async def did(
        self, action: str, subject_type: str, subject_id: uuid.UUID, details: dict[str, Any]
    ) -> None:
        """Record what the child did in the audit log the child and guardians see."""
        ...

    async def announce(self, event: Event) -> None:
        """Commit the request's work, then publish ``event`` (so it is never told before it
        is stored, nor lost to a response the device never read)."""
        ...


StatusQuery = Annotated[RequestStatus | None, Query(description="Only requests in this state.")]
OrderQuery = Annotated[
    RequestOrder,
    Query(description="newest first, or the pending ones first (each part newest first)."),
]
RequestBody = Annotated[
    ExtraTimeRequestCreate | AppInstallRequestCreate, Body(discriminator="kind")
]


def create_guardian_router(
    *,
    guardian: Callable[..., Any],
    caller_errors: tuple[type[AppError], ...],
) -> APIRouter:
    router = APIRouter(tags=["screen time"], responses=error_responses(*caller_errors))
    GuardianDep = Annotated[Guardian, Depends(guardian)]

    @router.get(CHILD_REQUESTS, responses=error_responses(InvalidCursor))
    async def list_child_screen_time_requests(
        caller: GuardianDep,
        status: StatusQuery = None,
        order: OrderQuery = "newest",
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        cursor: CursorQuery = None,
    ) -> ScreenTimeRequestPage:
        """The child's requests for extra time and app installs, with their answers."""
        return await service.page(
            caller.session,
            caller.child_id,
            now=caller.now(),
            status=status,
            order=order,
            limit=limit,
            cursor=cursor,
        )

    @router.post(
        CHILD_REQUESTS + "/{request_id}/decision",
        responses=error_responses(
            ScreenTimeRequestNotFound,
            ScreenTimeRequestAlreadyDecided,
            ScreenTimeRequestExpired,
            InvalidRequestDecision,
        ),
    )
    async def create_screen_time_request_decision(
        request_id: uuid.UUID, body: RequestDecisionCreate, caller: GuardianDep
    ) -> ScreenTimeRequestRead:
        """Approve (extra time is granted for the child's today, as asked or with ``minutes``)
        or decline a pending request, with an optional reply the child sees."""
        decided = await service.decide(
            caller.session,
            await service.get(caller.session, caller.child_id, request_id),
            body,
            decided_by=caller.account_id,
            now=caller.now(),
            zone=caller.zone,
        )
        request = decided.request
        details: dict[str, Any] = {
            "kind": request.kind,
            "decision": body.decision,
            **({"app": request.app} if request.app else {}),
            **({"category": request.category} if request.category else {}),
        }
        if decided.revision is not None:
            assert request.day is not None
            details |= {
                "minutes": request.granted_minutes,
                "day": request.day.isoformat(),
                "revision": decided.revision,
            }
        await caller.changed(
            "screen_time_request.decided",
            "screen_time_request",
            request.id,
            details,
            policy_changed=decided.policy_changed,
        )
        return request

    return router


def create_device_router(
    *,
    reader: Callable[..., Any],
    writer: Callable[..., Any],
    caller_errors: tuple[type[AppError], ...],
    write_errors: tuple[type[AppError], ...],
) -> APIRouter:
    router = APIRouter(tags=["device agent"], responses=error_responses(*caller_errors))
    ReaderDep = Annotated[ChildDevice, Depends(reader)]
    WriterDep = Annotated[ChildDevice, Depends(writer)]

    @router.post(
        DEVICE_REQUESTS,
        status_code=http_status.HTTP_201_CREATED,
        responses={
            200: {
                "model": ScreenTimeRequestRead,
                "description": "An install request for the app was pending: that one",
            },
            **error_responses(*write_errors, TooManyPendingRequests),
        },
    )
    async def create_device_screen_time_request(
        body: RequestBody, device: WriterDep, response: Response
    ) -> ScreenTimeRequestRead:
        """Ask the child's guardians for extra time today (an app or a category, 1 to 240
        minutes) or for leave to install an app, with an optional message."""
        asked = await service.ask(
            device.session,
            child_id=device.child_id,
            device_id=device.device_id,
            body=body,
            now=device.now(),
            zone=device.zone,
            max_pending=device.max_pending_requests,
        )
        request = asked.request
        if asked.event is None:
            response.status_code = http_status.HTTP_200_OK
            return request
        await device.did(
            "screen_time_request.created",
            "screen_time_request",
            request.id,
            body.model_dump(mode="json", exclude={"message"}, exclude_none=True),
        )
        await device.announce(asked.event)
        return request

    @router.get(DEVICE_REQUESTS, responses=error_responses(InvalidCursor))
    async def list_device_screen_time_requests(
        device: ReaderDep,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        cursor: CursorQuery = None,
    ) -> ScreenTimeRequestPage:
        """The child's own requests, newest first, and the guardians' answers."""
        return await service.page(
            device.session, device.child_id, now=device.now(), limit=limit, cursor=cursor
        )

    return router
