from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from parental.kit.wire import JsonFloat
from telemetry.geofences.geometry import MAX_POLYGON_POINTS, MAX_RADIUS_M, MIN_RADIUS_M

Weekday = Literal[0, 1, 2, 3, 4, 5, 6]
Notified = Literal["enter", "exit"]
PlaceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _local(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("times are local to the child's time zone; give no offset")
    return value


def _both() -> list[Notified]:
    return ["enter", "exit"]


class Position(Request):
    latitude: JsonFloat = Field(ge=-90, le=90)
    longitude: JsonFloat = Field(ge=-180, le=180)


class CircleShape(Request):
    kind: Literal["circle"]
    center: Position
    radius_m: float = Field(ge=MIN_RADIUS_M, le=MAX_RADIUS_M)


class PolygonShape(Request):
    """A ring of points; the edges are straight lines between them, the last joining the first
    (repeating the first point at the end is allowed). It must not cross itself."""

    kind: Literal["polygon"]
    points: list[Position] = Field(min_length=3, max_length=MAX_POLYGON_POINTS + 1)


ShapeSchema = Annotated[CircleShape | PolygonShape, Field(discriminator="kind")]


class WindowSchema(Request):
    """From ``start`` on each of ``days`` (0 = Monday) to ``end``; overnight if end <= start."""

    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: time
    end: time

    _naive = field_validator("start", "end")(_local)


class ArrivalSchema(Request):
    """Tell the guardians if, on each of ``days``, the child has not been seen inside the
    place between ``since`` and ``by`` (local times, same day), and is not known to be there."""

    days: list[Weekday] = Field(min_length=1, max_length=7)
    since: time
    by: time

    _naive = field_validator("since", "by")(_local)

    @model_validator(mode="after")
    def _ordered(self) -> ArrivalSchema:
        if not self.since < self.by:
            raise ValueError("since must be earlier than by, on the same day")
        return self


class PlaceCreate(Request):
    name: PlaceName
    shape: ShapeSchema
    schedule: list[WindowSchema] = Field(
        default_factory=list,
        max_length=28,
        description="When enter and exit are told; empty: always.",
    )
    events: list[Notified] = Field(default_factory=_both, max_length=2, description="What to tell.")
    arrive_by: ArrivalSchema | None = None


class PlaceUpdate(Request):
    """Only the fields given change; ``arrive_by: null`` removes the arrival rule. A new shape
    forgets where the child was relative to the old one."""

    name: PlaceName | None = None
    shape: ShapeSchema | None = None
    schedule: list[WindowSchema] | None = Field(default=None, max_length=28)
    events: list[Notified] | None = Field(default=None, max_length=2)
    arrive_by: ArrivalSchema | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(k for k, v in data.items() if v is None and k != "arrive_by")
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null; leave it out to keep it")
        return data


class PlaceRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    name: str
    shape: CircleShape | PolygonShape
    schedule: list[WindowSchema]
    events: list[Notified]
    arrive_by: ArrivalSchema | None
    created_at: datetime
    updated_at: datetime


class PlaceList(BaseModel):
    items: list[PlaceRead]


class PlaceEventRead(BaseModel):
    """An arrival, a departure (at the fix that showed it, with its position) or a no-show
    (at the deadline, without a position)."""

    id: uuid.UUID
    place_id: uuid.UUID
    place_name: str
    kind: Literal["enter", "exit", "not_arrived"]
    occurred_at: datetime
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None


class PlaceEventPage(BaseModel):
    items: list[PlaceEventRead]
    next_cursor: str | None
