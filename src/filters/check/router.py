"""``/filter/check``. The package cannot know who may call it; the composition root passes
the dependency that authenticates the caller (carrier key, child device or staff) and says
which child, if any, the verdicts are counted for."""

# No `from __future__ import annotations`: the routes below are built inside create_router and
# their annotations name its local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query

from filters.activity.recorder import ActivityRecorder
from filters.check import service
from filters.check.errors import InvalidItem, NoPublishedVersion, ProfileNotFound
from filters.check.schemas import CheckRequest, CheckResponse
from filters.engine.profile import Profile
from filters.engine.store import SnapshotStore
from parental.kit.errors import error_responses


@dataclass(frozen=True)
class Subject:
    """The profile that applies, and the child whose verdicts are counted (None: nobody's, as
    for the default profile or a child no longer monitored)."""

    profile: Profile
    child_id: uuid.UUID | None = None


class ProfileSource(Protocol):
    """The authenticated caller, able to say which profile applies to its request."""

    async def subject(self, profile_id: str | None) -> Subject: ...


async def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_router(
    *,
    caller: Callable[..., Any],
    store: Callable[..., Awaitable[SnapshotStore]],
    recorder: Callable[..., Awaitable[ActivityRecorder]],
    now: Callable[..., Awaitable[datetime]] = _utc_now,
    caller_errors: tuple[type[Any], ...] = (),
) -> APIRouter:
    router = APIRouter(
        tags=["filter"],
        responses=error_responses(*caller_errors, InvalidItem, ProfileNotFound, NoPublishedVersion),
    )
    StoreDep = Annotated[SnapshotStore, Depends(store)]
    CallerDep = Annotated[ProfileSource, Depends(caller)]
    NowDep = Annotated[datetime, Depends(now)]
    RecorderDep = Annotated[ActivityRecorder, Depends(recorder)]

    async def answer(
        items: list[str],
        subject: Subject,
        snapshots: SnapshotStore,
        at: datetime,
        activity: ActivityRecorder,
    ) -> CheckResponse:
        version, results = service.check(snapshots, items, profile=subject.profile, now=at)
        if subject.child_id is not None:
            await activity.record(subject.child_id, subject.profile.timezone, results, at)
        return CheckResponse(version=version, results=results)

    @router.post("/filter/check")
    async def check_items(
        body: CheckRequest,
        source: CallerDep,
        snapshots: StoreDep,
        at: NowDep,
        activity: RecorderDep,
    ) -> CheckResponse:
        """Verdicts for up to 1,000 names or URLs, in order."""
        subject = await source.subject(body.profile)
        return await answer(body.items, subject, snapshots, at, activity)

    @router.get("/filter/check")
    async def check_item(
        url: Annotated[str, Query(min_length=1, max_length=4096, description="Name or URL.")],
        source: CallerDep,
        snapshots: StoreDep,
        at: NowDep,
        activity: RecorderDep,
        profile: Annotated[str | None, Query(max_length=64)] = None,
    ) -> CheckResponse:
        """The verdict for one name or URL."""
        subject = await source.subject(profile)
        return await answer([url], subject, snapshots, at, activity)

    return router
