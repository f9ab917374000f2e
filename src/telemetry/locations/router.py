"""Location routes: uploads from the child's device and from the carrier core, and the
guardian's reads. The package cannot know who is calling or what they may see: the composition
root passes dependencies that authenticate the caller, check that monitoring applies, and give
an ``Uploader`` (the child whose fixes are stored) or a ``Viewer`` (the child whose positions
are read, with the audit log the child sees)."""

# No `from __future__ import annotations`: the routes below are built inside the factories and
# their annotations name local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.cache import Cache
from parental.kit.errors import AppError, error_responses
from parental.kit.events import Event
from parental.kit.notices import Notices
from parental.kit.paging import CursorQuery, InvalidCursor
from parental.kit.wire import JsonAwareDatetime
from telemetry.locations import positions, service
from telemetry.locations.errors import InvalidPeriod
from telemetry.locations.fast import viewed_details
from telemetry.locations.fix import FixListener
from telemetry.locations.schemas import (
    BatchResult,
    CarrierBatchResult,
    CarrierPositionBatch,
    CarrierPositionCreate,
    CarrierStatus,
    FixBatch,
    FixCreate,
    LatestLocationRead,
    LocationPage,
)
from telemetry.locations.stream import location_events

MAX_HISTORY_PAGE = 1000  # a day's track at one fix a minute is 1,440 fixes: two pages


class Uploader(Protocol):
    """A caller whose fixes of one child are stored: the child's device, or the carrier."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def child_id(self) -> uuid.UUID: ...

    @property
    def device_id(self) -> uuid.UUID | None:
        """The uploading device; None for the carrier's positions."""
        ...

    @property
    def policy(self) -> service.Policy: ...

    @property
    def outlets(self) -> service.Outlets: ...

    @property
    def listeners(self) -> Sequence[FixListener]: ...

    def now(self) -> datetime: ...

    async def record_events(self, events: Sequence[Event]) -> None:
        """Keep what the listeners raised in the upload's transaction (the guardians'
        notifications), before it commits."""
        ...


@dataclass(frozen=True)
class Ignored:
    """Positions of a line that are accepted and dropped, and why (see ``CarrierBatchResult``)."""

    reason: str


class LineLocator(Protocol):
    """The carrier, authenticated: finds whose positions a line's are."""

    async def uploader(self, msisdn: str) -> Uploader | Ignored:
        """The uploader for the line's child; errors for unknown or inactive lines."""
        ...


class Viewer(Protocol):
    """A guardian allowed to see one child's positions now (monitoring applies)."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def child_id(self) -> uuid.UUID: ...

    @property
    def policy(self) -> service.Policy: ...

    @property
    def cache(self) -> Cache: ...

    @property
    def notices(self) -> Notices: ...

    @property
    def stream_heartbeat(self) -> float: ...

    @property
    def stream_lifetime(self) -> float: ...

    def now(self) -> datetime: ...

    async def viewed(self, action: str, details: dict[str, Any]) -> None:
        """Record the read in the audit log the child sees, in the request's transaction."""
        ...


async def store(
    uploader: Uploader, items: Sequence[FixCreate | CarrierPositionCreate]
) -> service.Stored:
    """Store an upload in the uploader's transaction (the route's and the fast path's)."""
    stored = await service.ingest(
        uploader.session,
        child_id=uploader.child_id,
        device_id=uploader.device_id,
        items=items,
        now=uploader.now(),
        limits=uploader.policy.limits(carrier=uploader.device_id is None),
        listeners=uploader.listeners,
    )
    await uploader.record_events(stored.events)
    return stored


async def _store(
    uploader: Uploader,
    items: Sequence[FixCreate | CarrierPositionCreate],
    background: BackgroundTasks,
) -> service.Stored:
    stored = await store(uploader, items)
    # Background tasks run once the response is sent: after the session has committed.
    background.add_task(
        service.announce, uploader.outlets, stored, cache_seconds=uploader.policy.cache_seconds
    )
    return stored


def create_device_router(
    *, uploader: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["device agent"], responses=error_responses(*caller_errors))
    UploaderDep = Annotated[Uploader, Depends(uploader)]

    @router.post("/device/locations")
    async def create_device_locations(
        body: FixBatch, device: UploaderDep, background: BackgroundTasks
    ) -> BatchResult:
        """Upload up to 1,000 fixes, in any order, however late. Each is accepted, a
        duplicate (stored before, or earlier in this batch) or rejected with a reason; the
        others are kept whatever happens to one."""
        stored = await _store(device, body.fixes, background)
        return stored.result

    return router


def create_carrier_router(
    *, locator: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["carrier"], responses=error_responses(*caller_errors))
    LocatorDep = Annotated[LineLocator, Depends(locator)]

    @router.post(
        "/lines/{msisdn}/locations",
        responses={202: {"model": CarrierBatchResult, "description": "Ignored (see reason)"}},
    )
    async def create_line_locations(
        msisdn: str,
        body: CarrierPositionBatch,
        carrier: LocatorDep,
        background: BackgroundTasks,
        response: Response,
    ) -> CarrierBatchResult:
        """Network positions of a child line (cell location), shown to guardians when the
        child's device is silent. Lines that are not a monitored child's are accepted and
        ignored (202), so the carrier's bridge may forward positions of every line."""
        found = await carrier.uploader(msisdn)
        if isinstance(found, Ignored):
            response.status_code = status.HTTP_202_ACCEPTED
            return CarrierBatchResult(
                status=CarrierStatus.IGNORED,
                reason=found.reason,
                accepted=0,
                duplicate=0,
                rejected=0,
                items=[],
            )
        stored = await _store(found, body.positions, background)
        return CarrierBatchResult(status=CarrierStatus.STORED, **stored.result.model_dump())

    return router


def create_guardian_router(
    *, viewer: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["locations"], responses=error_responses(*caller_errors))
    ViewerDep = Annotated[Viewer, Depends(viewer)]

    @router.get("/children/{child_id}/location")
    async def get_child_location(guardian: ViewerDep) -> LatestLocationRead:
        """Where the child is now: the device's latest fix, or the carrier's cell position
        when the device has been silent for a while (``basis`` says which). The child's
        device shows that the guardian looked."""
        found = await positions.latest(
            guardian.session,
            guardian.cache,
            guardian.child_id,
            now=guardian.now(),
            policy=guardian.policy,
        )
        await guardian.viewed("location.viewed", viewed_details(found))
        return found.read()

    @router.get(
        "/children/{child_id}/locations",
        responses=error_responses(InvalidCursor, InvalidPeriod),
    )
    async def list_child_locations(
        guardian: ViewerDep,
        limit: Annotated[
            int, Query(ge=1, le=MAX_HISTORY_PAGE, description="Page size, at most 1,000.")
        ] = 100,
        cursor: CursorQuery = None,
        since: Annotated[
            JsonAwareDatetime | None, Query(description="Fixes taken at or after this")
        ] = None,
        until: Annotated[
            JsonAwareDatetime | None, Query(description="Fixes taken before this")
        ] = None,
        every: Annotated[
            int | None,
            Query(
                ge=1,
                le=86_400,
                description="At most one fix (the newest) per interval of this many seconds, "
                "intervals counted from the Unix epoch.",
            ),
        ] = None,
    ) -> LocationPage:
        """The child's fixes, newest first, page by page, from the retention period (30 days
        by default). The child's device shows that the guardian looked."""
        if since is not None and until is not None and since >= until:
            raise InvalidPeriod()
        page = await service.history(
            guardian.session,
            guardian.child_id,
            limit=limit,
            cursor=cursor,
            since=since,
            until=until,
            every=every,
            now=guardian.now(),
            retention=guardian.policy.retention,
        )
        await guardian.viewed(
            "location.history_viewed",
            {
                "since": _iso(since),
                "until": _iso(until),
                "every": every,
                "next_page": cursor is not None,
            },
        )
        return page

    @router.get(
        "/children/{child_id}/locations/stream",
        responses={
            200: {
                "description": "``location`` events (data: a LocationRead) as fixes are "
                "stored, and a comment line when nothing happened for 15 seconds.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        },
    )
    async def get_child_location_stream(guardian: ViewerDep) -> StreamingResponse:
        """New positions of the child as they arrive (Server-Sent Events). The stream ends
        after an hour; reconnect to go on. The child's device shows that the guardian
        started watching."""
        await guardian.viewed("location.stream_opened", {})
        # Not FastAPI's generator-route SSE: that keeps the request's session (and its
        # transaction) open for as long as the stream; this one commits the audit row first.
        return StreamingResponse(
            location_events(
                guardian.notices,
                guardian.cache,
                guardian.child_id,
                heartbeat=guardian.stream_heartbeat,
                lifetime=guardian.stream_lifetime,
            ),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
