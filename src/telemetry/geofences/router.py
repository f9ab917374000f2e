"""Guardians' routes for a child's places and the events they produced. The package cannot
know who is a child's guardian, whether monitoring applies or how to write the audit log: the
composition root passes the dependencies that authenticate the caller and give a ``Keeper``
for the child in the path (or the child whose place is in the path)."""

# No `from __future__ import annotations`: the routes below are built inside create_router and
# their annotations name its local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.errors import error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from telemetry.geofences import service, stored
from telemetry.geofences.errors import InvalidPlace, PlaceLimitReached, PlaceNotFound
from telemetry.geofences.schemas import (
    PlaceCreate,
    PlaceEventPage,
    PlaceList,
    PlaceRead,
    PlaceUpdate,
)

CHILD_PLACES = "/children/{child_id}/places"
PLACE = "/places/{place_id}"


class Keeper(Protocol):
    """A guardian of one child, authenticated and checked by the composition root."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def child_id(self) -> uuid.UUID: ...

    @property
    def timezone(self) -> str: ...

    @property
    def max_places(self) -> int: ...

    def now(self) -> datetime: ...

    async def record(self, action: str, place_id: uuid.UUID, details: dict[str, Any]) -> None:
        """Audit a change to the child's places; the child's device shows it."""
        ...

    async def viewing(self, details: dict[str, Any]) -> None:
        """Refuse a read of where the child went unless monitoring applies; audit it."""
        ...


def _summary(body: PlaceCreate | PlaceUpdate) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_unset=True, exclude={"shape"}) | (
        {"shape": body.shape.kind} if body.shape is not None else {}
    )


def create_router(
    *,
    child_keeper: Callable[..., Any],
    place_keeper: Callable[..., Any],
    caller_errors: tuple[type[Any], ...] = (),
    view_errors: tuple[type[Any], ...] = (),
) -> APIRouter:
    router = APIRouter(tags=["places"], responses=error_responses(*caller_errors))
    ChildKeeper = Annotated[Keeper, Depends(child_keeper)]
    PlaceKeeper = Annotated[Keeper, Depends(place_keeper)]

    @router.post(
        CHILD_PLACES,
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(InvalidPlace, PlaceLimitReached),
    )
    async def create_place(body: PlaceCreate, keeper: ChildKeeper) -> PlaceRead:
        """Add a named place (a circle or a polygon) to tell the guardians when the child
        arrives, leaves, or has not arrived by a time."""
        place = await service.create_place(
            keeper.session,
            child_id=keeper.child_id,
            timezone=keeper.timezone,
            body=body,
            now=keeper.now(),
            max_places=keeper.max_places,
        )
        await keeper.record("places.created", place.id, _summary(body))
        return stored.read(place)

    @router.get(CHILD_PLACES)
    async def list_places(keeper: ChildKeeper) -> PlaceList:
        """The child's places, oldest first."""
        return await service.list_places(keeper.session, keeper.child_id)

    @router.get(PLACE, responses=error_responses(PlaceNotFound))
    async def get_place(place_id: uuid.UUID, keeper: PlaceKeeper) -> PlaceRead:
        """One place of one of the caller's children."""
        return stored.read(await service.get_place(keeper.session, keeper.child_id, place_id))

    @router.patch(PLACE, responses=error_responses(PlaceNotFound, InvalidPlace))
    async def update_place(
        place_id: uuid.UUID, body: PlaceUpdate, keeper: PlaceKeeper
    ) -> PlaceRead:
        """Rename, redraw, reschedule a place or change what it tells."""
        place = await service.get_place(keeper.session, keeper.child_id, place_id)
        await service.update_place(
            keeper.session, place, body, timezone=keeper.timezone, now=keeper.now()
        )
        await keeper.record("places.updated", place.id, _summary(body))
        return stored.read(place)

    @router.delete(
        PLACE, status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(PlaceNotFound)
    )
    async def delete_place(place_id: uuid.UUID, keeper: PlaceKeeper) -> None:
        """Remove a place with the events it produced."""
        place = await service.get_place(keeper.session, keeper.child_id, place_id)
        name = place.name
        await service.delete_place(keeper.session, place)
        await keeper.record("places.deleted", place_id, {"name": name})

    @router.get(
        "/children/{child_id}/place-events",
        responses=error_responses(InvalidCursor, *view_errors),
    )
    async def list_place_events(
        keeper: ChildKeeper,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        cursor: CursorQuery = None,
        place_id: Annotated[uuid.UUID | None, Query(description="Only this place's")] = None,
    ) -> PlaceEventPage:
        """When the child arrived at and left the child's places, and missed an arrival time,
        newest first. The child's device shows that the guardian looked."""
        await keeper.viewing({"place_id": str(place_id) if place_id else None})
        return await service.event_page(
            keeper.session, keeper.child_id, limit=limit, cursor=cursor, place_id=place_id
        )

    return router
