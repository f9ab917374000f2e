"""Usage routes: the child's device uploads its sessions, a guardian reads the child's day.
The package cannot know who is calling or what they may see: the composition root passes
dependencies that authenticate the caller, check that monitoring applies, and give an
``Uploader`` (the device whose sessions are stored) or a ``Viewer`` (the child whose usage is
read, with the audit log the child sees)."""

# No `from __future__ import annotations`: the routes below are built inside the factories and
# their annotations name local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.errors import AppError, error_responses
from telemetry.usage import service
from telemetry.usage.schemas import SessionBatch, SessionBatchResult, UsageDayRead


class Uploader(Protocol):
    """The child's device, allowed to upload now (monitoring applies, within its rate)."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def child_id(self) -> uuid.UUID: ...

    @property
    def device_id(self) -> uuid.UUID: ...

    @property
    def limits(self) -> service.Limits: ...

    def now(self) -> datetime: ...


class Viewer(Protocol):
    """A guardian of one child."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def child_id(self) -> uuid.UUID: ...

    @property
    def zone(self) -> ZoneInfo:
        """The child's time zone, which days are cut in."""
        ...

    def now(self) -> datetime: ...

    async def viewed(self, action: str, details: dict[str, Any]) -> None:
        """Refuse unless monitoring applies to the child now; record the read in the audit
        log the child sees, in the request's transaction."""
        ...


def create_device_router(
    *, uploader: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["device agent"], responses=error_responses(*caller_errors))
    UploaderDep = Annotated[Uploader, Depends(uploader)]

    @router.post("/device/usage")
    async def create_device_usage(body: SessionBatch, device: UploaderDep) -> SessionBatchResult:
        """Upload up to 1,000 app (foreground) and screen-on sessions, in any order, however
        late. Each is accepted, a duplicate (stored before, or earlier in this batch) or
        rejected with a reason; the others are kept whatever happens to one. A session sent
        again with a later end extends the stored one."""
        return await service.ingest(
            device.session,
            child_id=device.child_id,
            device_id=device.device_id,
            items=body.sessions,
            now=device.now(),
            limits=device.limits,
        )

    return router


def create_guardian_router(
    *, viewer: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["screen time"], responses=error_responses(*caller_errors))
    ViewerDep = Annotated[Viewer, Depends(viewer)]

    @router.get("/children/{child_id}/usage/today")
    async def get_child_usage_today(guardian: ViewerDep) -> UsageDayRead:
        """Minutes the child has used today (the child's local date) per app, per category
        and in total (screen-on time). No app catalogue yet: every app is in ``other``. The
        child's device shows that the guardian looked."""
        day = service.local_today(guardian.now(), guardian.zone)
        await guardian.viewed("usage.viewed", {"day": day.isoformat()})
        return await service.day_report(
            guardian.session, guardian.child_id, day=day, zone=guardian.zone
        )

    return router
