"""Places of a child and what they produce.

The guardian's edits come through the composition root, which has checked that the caller is
the child's guardian and passes the child's time zone. Fixes are tracked inside the ingestion
transaction (``track``), the arrival deadlines by the worker (``check_arrival``); both store an
event under its unique key before returning it, and return only events stored by that call,
for the caller to publish once its transaction has committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.db import write_fields
from parental.kit.ids import new_id
from parental.kit.paging import decode_cursor, encode_cursor
from telemetry.geofences import engine, repository, stored
from telemetry.geofences.errors import PlaceLimitReached, PlaceNotFound
from telemetry.geofences.events import PlaceEntered, PlaceEvent, PlaceLeft, PlaceNotArrived
from telemetry.geofences.geometry import Containment
from telemetry.geofences.models import Place
from telemetry.geofences.schemas import (
    PlaceCreate,
    PlaceEventPage,
    PlaceEventRead,
    PlaceList,
    PlaceUpdate,
)
from telemetry.locations.fix import Fix

DUE_CHECKS_PER_ROUND = 500


def _plan_check(place: Place, now: datetime) -> None:
    """Set the next arrival deadline after ``now`` (None without an arrival rule)."""
    rule = stored.arrival_of(place)
    place.next_check_at = rule.deadline_after(now, ZoneInfo(place.timezone)) if rule else None


def _sync_zone(place: Place, timezone: str, now: datetime) -> bool:
    """Follow a change of the child's zone (whether there was one). A deadline falling due at
    the very moment of the change may be skipped; none is checked twice."""
    if place.timezone == timezone:
        return False
    place.timezone = timezone
    _plan_check(place, now)
    return True


async def create_place(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    timezone: str,
    body: PlaceCreate,
    now: datetime,
    max_places: int,
) -> Place:
    """Add a place to the child's, within the limit (two guardians adding the last one at
    once: one gets it); the child's position there is unknown until a fix decides it."""
    await repository.lock_child(session, child_id)
    if await repository.count_for_child(session, child_id) >= max_places:
        raise PlaceLimitReached(f"A child can have at most {max_places} places.")
    place = Place(
        child_id=child_id,
        name=body.name,
        shape=stored.shape_json(body.shape),
        schedule=stored.schedule_json(body.schedule),
        notify_enter="enter" in body.events,
        notify_exit="exit" in body.events,
        arrive_by=stored.arrival_json(body.arrive_by),
        timezone=timezone,
        status=Containment.UNKNOWN.value,
        created_at=now,
        updated_at=now,
    )
    _plan_check(place, now)
    await repository.add(session, place)
    return place


async def list_places(session: AsyncSession, child_id: uuid.UUID) -> PlaceList:
    return PlaceList(items=[stored.read(p) for p in await repository.for_child(session, child_id)])


async def child_of_place(session: AsyncSession, place_id: uuid.UUID) -> uuid.UUID:
    """Whose place this is; 404 if there is no such place."""
    child_id = await repository.child_of(session, place_id)
    if child_id is None:
        raise PlaceNotFound()
    return child_id


async def get_place(session: AsyncSession, child_id: uuid.UUID, place_id: uuid.UUID) -> Place:
    """The child's place, locked for a change; 404 for another child's as for a made-up id."""
    place = await repository.get_for_child(session, child_id, place_id)
    if place is None:
        raise PlaceNotFound()
    return place


async def update_place(
    session: AsyncSession, place: Place, body: PlaceUpdate, *, timezone: str, now: datetime
) -> Place:
    given = body.model_fields_set
    if body.name is not None:
        place.name = body.name
    if body.shape is not None:
        place.shape = stored.shape_json(body.shape)
        stored.forget_state(place)
    if body.schedule is not None:
        place.schedule = stored.schedule_json(body.schedule)
    if body.events is not None:
        place.notify_enter = "enter" in body.events
        place.notify_exit = "exit" in body.events
    if "arrive_by" in given:
        place.arrive_by = stored.arrival_json(body.arrive_by)
        place.timezone = timezone
        _plan_check(place, now)
    else:  # a deadline that has just come stays due for the worker
        _sync_zone(place, timezone, now)
    place.updated_at = now
    await session.flush()
    return place


async def delete_place(session: AsyncSession, place: Place) -> None:
    """Remove the place with the events it produced."""
    await repository.delete_place(session, place)


# Where ``lock_places`` leaves what it locked, for the rest of the transaction.
_LOCKED = "geofences.locked_places"


async def lock_places(session: AsyncSession, child_ids: Sequence[uuid.UUID]) -> None:
    """Lock the places of several children in one statement (a group of uploads); until the
    transaction ends, ``places_to_track`` finds them without asking again."""
    locked: dict[uuid.UUID, list[Place]] = session.info.setdefault(_LOCKED, {})
    locked.update(await repository.lock_for_children(session, child_ids))


async def places_to_track(session: AsyncSession, child_id: uuid.UUID) -> list[Place]:
    """The child's places, locked: concurrent batches of one child are tracked in turn."""
    locked: dict[uuid.UUID, list[Place]] | None = session.info.get(_LOCKED)
    if locked is not None and child_id in locked:
        return locked[child_id]
    return await repository.lock_for_child(session, child_id)


async def track(
    session: AsyncSession,
    places: Sequence[Place],
    fixes: Sequence[Fix],
    *,
    timezone: str,
    margin_m: float,
    now: datetime,
) -> list[PlaceEvent]:
    """Move the child's state at each place through the new ``fixes``; the enter and exit
    events the places want, each stored once (all of a batch's in one statement)."""
    ordered = sorted(fixes, key=lambda f: f.fixed_at)
    zone = ZoneInfo(timezone)
    wanted: list[tuple[Place, engine.Transition]] = []
    moved: list[tuple[Place, dict[str, object]]] = []
    zone_followed = False
    for place in places:
        zone_followed |= _sync_zone(place, timezone, now)
        rules = stored.rules_of(place)
        before = stored.state_of(place)
        state, transitions = engine.track(rules.shape, before, ordered, margin_m)
        if state != before:
            moved.append((place, stored.state_values(state)))
        wanted += [(place, t) for t in engine.announced(rules, transitions, zone)]
    if zone_followed:
        await session.flush()
    # The states in one statement, not through the unit of work: every upload moves them.
    await write_fields(session, moved)
    if not wanted:
        return []
    ids = [new_id() for _ in wanted]
    rows = [_transition_row(i, p, t, now) for i, (p, t) in zip(ids, wanted, strict=True)]
    new = await repository.insert_events(session, rows)
    return [
        _transition_event(i, place, transition)
        for i, (place, transition) in zip(ids, wanted, strict=True)
        if i in new
    ]


def _transition_row(
    event_id: uuid.UUID, place: Place, transition: engine.Transition, now: datetime
) -> dict[str, object]:
    fix = transition.fix
    return {
        "id": event_id,
        "child_id": place.child_id,
        "place_id": place.id,
        "kind": transition.kind.value,
        "occurred_at": fix.fixed_at,
        "place_name": place.name,
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "accuracy_m": fix.accuracy_m,
        "recorded_at": now,
    }


def _transition_event(
    event_id: uuid.UUID, place: Place, transition: engine.Transition
) -> PlaceEvent:
    fix = transition.fix
    kind = PlaceEntered if transition.kind is engine.Kind.ENTER else PlaceLeft
    return kind(
        occurred_at=fix.fixed_at,
        event_id=event_id,
        child_id=place.child_id,
        place_id=place.id,
        place_name=place.name,
        fixed_at=fix.fixed_at,
        latitude=fix.latitude,
        longitude=fix.longitude,
        accuracy_m=fix.accuracy_m,
    )


async def due_checks(session: AsyncSession, now: datetime) -> list[Place]:
    """Places whose arrival deadline has come, locked; at most a round's worth."""
    return await repository.lock_due_checks(session, now, DUE_CHECKS_PER_ROUND)


async def check_arrival(
    session: AsyncSession,
    place: Place,
    *,
    timezone: str,
    now: datetime,
    grace: timedelta,
    announce: bool,
) -> list[PlaceNotArrived]:
    """Check every deadline of the place that has come, and plan the next one.

    A deadline more than ``grace`` ago (the worker was down) is skipped rather than told late.
    Each deadline is told at most once: the event's key is (child, place, kind, deadline).
    """
    _sync_zone(place, timezone, now)
    rule = stored.arrival_of(place)
    if rule is None:
        place.next_check_at = None
        return []
    zone = ZoneInfo(place.timezone)
    state = stored.state_of(place)
    events: list[PlaceNotArrived] = []
    while place.next_check_at is not None and place.next_check_at <= now:
        deadline = place.next_check_at
        if (
            announce
            and deadline >= now - grace
            and not engine.arrived(state, rule.since_for(deadline, zone))
        ):
            event = await _store_not_arrived(session, place, deadline, now, rule.by)
            if event is not None:
                events.append(event)
        place.next_check_at = rule.deadline_after(max(deadline, now - grace), zone)
    await session.flush()
    return events


async def _store_not_arrived(
    session: AsyncSession, place: Place, deadline: datetime, now: datetime, by: time
) -> PlaceNotArrived | None:
    event_id = new_id()
    row = {
        "id": event_id,
        "child_id": place.child_id,
        "place_id": place.id,
        "kind": engine.Kind.NOT_ARRIVED.value,
        "occurred_at": deadline,
        "place_name": place.name,
        "recorded_at": now,
    }
    if event_id not in await repository.insert_events(session, [row]):
        return None
    zone = ZoneInfo(place.timezone)
    return PlaceNotArrived(
        occurred_at=deadline,
        event_id=event_id,
        child_id=place.child_id,
        place_id=place.id,
        place_name=place.name,
        deadline=deadline,
        local_date=deadline.astimezone(zone).date(),
        by=by,
        timezone=place.timezone,
    )


async def event_page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    place_id: uuid.UUID | None = None,
) -> PlaceEventPage:
    """The child's arrivals, departures and no-shows, newest first."""
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.event_page(
        session, child_id, limit=limit + 1, after=after, place_id=place_id
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return PlaceEventPage(
        items=[PlaceEventRead.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=encode_cursor(rows[-1].occurred_at, rows[-1].id) if more and rows else None,
    )


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete events that happened before ``before``; places stay until removed."""
    return await repository.purge_events(session, before)


async def forget_states(session: AsyncSession, *, before: datetime) -> int:
    """Forget where the child was (inside or outside, last seen inside) at places no fix
    since ``before`` speaks for: a place's state holds no more history than the fixes do. The
    next decisive fix sets it again without announcing a transition."""
    return await repository.forget_states(session, before)


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    """Delete a removed child's places and their events; how many of each went."""
    events, places = await repository.erase_child(session, child_id)
    return {k: v for k, v in {"place_events": events, "places": places}.items() if v}
