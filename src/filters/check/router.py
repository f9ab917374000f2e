"""``/filter/check``. The package cannot know who may call it; the composition root passes
the dependency that authenticates the caller (carrier key, child device or staff)."""

# No `from __future__ import annotations`: the routes below are built inside create_router and
# their annotations name its local dependencies, which FastAPI must see as objects.

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query

from filters.check import service
from filters.check.errors import InvalidItem, NoPublishedVersion, ProfileNotFound
from filters.check.schemas import CheckRequest, CheckResponse
from filters.engine.profile import Profile
from filters.engine.store import SnapshotStore
from parental.kit.errors import error_responses


class ProfileSource(Protocol):
    """The authenticated caller, able to say which profile applies to its request."""

    async def profile(self, profile_id: str | None) -> Profile: ...


def create_router(
    *,
    caller: Callable[..., Any],
    store: Callable[..., SnapshotStore],
    now: Callable[..., datetime] = lambda: datetime.now(UTC),
    caller_errors: tuple[type[Any], ...] = (),
) -> APIRouter:
    router = APIRouter(
        tags=["filter"],
        responses=error_responses(*caller_errors, InvalidItem, ProfileNotFound, NoPublishedVersion),
    )
    StoreDep = Annotated[SnapshotStore, Depends(store)]
    CallerDep = Annotated[ProfileSource, Depends(caller)]
    NowDep = Annotated[datetime, Depends(now)]

    @router.post("/filter/check")
    async def check_items(
        body: CheckRequest, source: CallerDep, snapshots: StoreDep, at: NowDep
    ) -> CheckResponse:
        """Verdicts for up to 1,000 names or URLs, in order."""
        profile = await source.profile(body.profile)
        version, results = service.check(snapshots, body.items, profile=profile, now=at)
        return CheckResponse(version=version, results=results)

    @router.get("/filter/check")
    async def check_item(
        url: Annotated[str, Query(min_length=1, max_length=4096, description="Name or URL.")],
        source: CallerDep,
        snapshots: StoreDep,
        at: NowDep,
        profile: Annotated[str | None, Query(max_length=64)] = None,
    ) -> CheckResponse:
        """The verdict for one name or URL."""
        version, results = service.check(
            snapshots, [url], profile=await source.profile(profile), now=at
        )
        return CheckResponse(version=version, results=results)

    return router
