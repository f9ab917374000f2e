"""Usage routes: the child's device uploads its sessions (told when a limit ran out), a
guardian reads the child's day and a report of the last days against the days before. The
package cannot know who is calling or what they may see: the composition root passes
dependencies that authenticate the caller, check that monitoring applies, and give an
``Uploader`` (the device whose sessions are stored) or a ``Viewer`` (the child whose usage is
read, with the audit log the child sees)."""

# No `from __future__ import annotations`: the routes below are built inside the factories and
# their annotations name local dependencies, which FastAPI must see as objects.

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query

from parental.kit.errors import AppError, error_responses
from parental.kit.events import Event
from telemetry.usage import service
from telemetry.usage.callers import ChildCaller, DeviceCaller
from telemetry.usage.reports import limit_watch
from telemetry.usage.reports import service as report_service
from telemetry.usage.reports.schemas import ReportDays, UsageReportRead
from telemetry.usage.schemas import SessionBatch, SessionBatchResult, UsageDayRead


class Uploader(DeviceCaller, Protocol):
    """The child's device, allowed to upload now (monitoring applies, within its rate)."""

    @property
    def limits(self) -> service.Limits: ...

    async def announce(self, events: Sequence[Event]) -> None:
        """Commit the upload and publish ``events`` (none: nothing to do)."""
        ...


class Viewer(ChildCaller, Protocol):
    """A guardian of one child."""

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
        again with a later end extends the stored one. ``sync_policy``: fetch the policy now
        (a limit ran out)."""
        result, events = await limit_watch.ingest(
            device.session,
            child_id=device.child_id,
            device_id=device.device_id,
            items=body.sessions,
            now=device.now(),
            limits=device.limits,
            zone=device.zone,
        )
        await device.announce(events)
        return result

    return router


def create_guardian_router(
    *, viewer: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["screen time"], responses=error_responses(*caller_errors))
    ViewerDep = Annotated[Viewer, Depends(viewer)]

    @router.get("/children/{child_id}/usage/today")
    async def get_child_usage_today(guardian: ViewerDep) -> UsageDayRead:
        """Minutes the child has used today (the child's local date) per app, per category
        and in total (screen-on time); each app in the category a guardian gave it for the
        child, else the app catalogue's, else other. The child's device shows that the
        guardian looked."""
        day = service.local_today(guardian.now(), guardian.zone)
        await guardian.viewed("usage.viewed", {"day": day.isoformat()})
        return await service.day_report(
            guardian.session, guardian.child_id, day=day, zone=guardian.zone
        )

    @router.get("/children/{child_id}/usage/report")
    async def get_child_usage_report(
        guardian: ViewerDep,
        days: Annotated[
            ReportDays,
            Query(description="The period's length in local dates: 1 (today), 7 or 30."),
        ] = ReportDays.WEEK,
    ) -> UsageReportRead:
        """The child's minutes over the last ``days`` local dates, today (so far) the last,
        against the ``days`` dates before: per app, per category and in total, day by day,
        with the most used apps. The child's device shows that the guardian looked."""
        last_day = service.local_today(guardian.now(), guardian.zone)
        first_day = last_day - timedelta(days=days - 1)
        await guardian.viewed(
            "usage.viewed",
            {"days": int(days), "from": first_day.isoformat(), "to": last_day.isoformat()},
        )
        return await report_service.period_report(
            guardian.session,
            guardian.child_id,
            last_day=last_day,
            days=int(days),
            zone=guardian.zone,
        )

    return router
