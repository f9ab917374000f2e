"""A place row's JSON columns, to and from the API's schemas and the engine's objects.

What is stored was validated when it was written, so reading it back builds the engine's
shapes without validating again: tracking a batch of fixes costs no polygon checks.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from telemetry.geofences.engine import PlaceRules, PlaceState
from telemetry.geofences.errors import InvalidPlace
from telemetry.geofences.geometry import (
    Circle,
    Containment,
    InvalidShape,
    Point,
    Polygon,
    Shape,
    polygon,
)
from telemetry.geofences.models import Place
from telemetry.geofences.schedule import ArrivalRule, Schedule, Window
from telemetry.geofences.schemas import (
    ArrivalSchema,
    CircleShape,
    Notified,
    PlaceRead,
    PolygonShape,
    Position,
    WindowSchema,
)


def shape_json(body: CircleShape | PolygonShape) -> dict[str, Any]:
    """The shape as stored, once it has been checked (400 ``InvalidPlace`` if it cannot be)."""
    try:
        if isinstance(body, CircleShape):
            center = Point(body.center.latitude, body.center.longitude)
            Circle(center, body.radius_m)
            return {
                "kind": "circle",
                "latitude": center.latitude,
                "longitude": center.longitude,
                "radius_m": body.radius_m,
            }
        ring = polygon([Point(p.latitude, p.longitude) for p in body.points])
    except InvalidShape as exc:
        raise InvalidPlace(f"The shape cannot be a place: {exc}.") from exc
    return {"kind": "polygon", "points": [[v.latitude, v.longitude] for v in ring.vertices]}


def shape_of(stored: dict[str, Any]) -> Shape:
    if stored["kind"] == "circle":
        return Circle(Point(stored["latitude"], stored["longitude"]), stored["radius_m"])
    return Polygon(tuple(Point(lat, lon) for lat, lon in stored["points"]))


def shape_read(stored: dict[str, Any]) -> CircleShape | PolygonShape:
    if stored["kind"] == "circle":
        return CircleShape(
            kind="circle",
            center=Position(latitude=stored["latitude"], longitude=stored["longitude"]),
            radius_m=stored["radius_m"],
        )
    return PolygonShape(
        kind="polygon",
        points=[Position(latitude=lat, longitude=lon) for lat, lon in stored["points"]],
    )


def _days(days: list[int]) -> list[int]:
    return sorted(set(days))


def schedule_json(windows: list[WindowSchema]) -> list[dict[str, Any]]:
    return [
        {"days": _days(list(w.days)), "start": w.start.isoformat(), "end": w.end.isoformat()}
        for w in windows
    ]


def arrival_json(rule: ArrivalSchema | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "days": _days(list(rule.days)),
        "since": rule.since.isoformat(),
        "by": rule.by.isoformat(),
    }


def rules_of(place: Place) -> PlaceRules:
    return PlaceRules(
        shape=shape_of(place.shape),
        schedule=Schedule(
            tuple(
                Window(
                    frozenset(w["days"]),
                    time.fromisoformat(w["start"]),
                    time.fromisoformat(w["end"]),
                )
                for w in place.schedule
            )
        ),
        enter=place.notify_enter,
        exit=place.notify_exit,
    )


def arrival_of(place: Place) -> ArrivalRule | None:
    rule = place.arrive_by
    if rule is None:
        return None
    return ArrivalRule(
        frozenset(rule["days"]), time.fromisoformat(rule["since"]), time.fromisoformat(rule["by"])
    )


def state_of(place: Place) -> PlaceState:
    return PlaceState(Containment(place.status), place.status_at, place.inside_seen_at)


def state_values(state: PlaceState) -> dict[str, object]:
    """The place's columns that hold ``state``."""
    return {
        "status": state.status.value,
        "status_at": state.as_of,
        "inside_seen_at": state.inside_seen_at,
    }


def store_state(place: Place, state: PlaceState) -> None:
    if state != state_of(place):
        for column, value in state_values(state).items():
            setattr(place, column, value)


def forget_state(place: Place) -> None:
    store_state(place, PlaceState())


def notified(place: Place) -> list[Notified]:
    events: list[Notified] = []
    if place.notify_enter:
        events.append("enter")
    if place.notify_exit:
        events.append("exit")
    return events


def read(place: Place) -> PlaceRead:
    return PlaceRead(
        id=place.id,
        child_id=place.child_id,
        name=place.name,
        shape=shape_read(place.shape),
        schedule=[WindowSchema.model_validate(w) for w in place.schedule],
        events=notified(place),
        arrive_by=ArrivalSchema.model_validate(place.arrive_by) if place.arrive_by else None,
        created_at=place.created_at,
        updated_at=place.updated_at,
    )
