"""Uploads stored in groups (``telemetry.locations.groups``): uploads that arrive together share
one transaction and one insert, and each still gets exactly the answer it would get alone; a
fix sent twice in one group is stored once; an upload that fails fails alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.events import Event
from parental.locations import fix_listeners, location_policy
from parental.runtime import Runtime
from telemetry.locations.fix import Fix, FixListener
from telemetry.locations.groups import UploadGroups
from telemetry.locations.schemas import FixCreate
from telemetry.locations.service import Upload
from tests.parental.factories import FamilyWorld
from tests.parental.test_locations import stored_count
from tests.parental.test_locations_fast_upload import tables_read

SCHOOL = {
    "name": "School",
    "shape": {"kind": "circle", "center": {"latitude": 43.24, "longitude": 76.89}, "radius_m": 300},
    "events": ["enter", "exit"],
}


class Heard(Event):
    child_id: uuid.UUID
    fixes: int


def heard(child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime) -> list[Event]:
    return [Heard(occurred_at=now, child_id=child_id, fixes=len(fixes))]


async def hearing(
    session: AsyncSession, child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime
) -> Sequence[Event]:
    return heard(child_id, fixes, now)


def upload_of(
    runtime: Runtime,
    family: FamilyWorld,
    clock: FrozenClock,
    minutes: range,
    listener: FixListener = hearing,
) -> Upload:
    items = [
        FixCreate(
            fixed_at=clock.now() - timedelta(minutes=m),
            latitude=43.24,
            longitude=76.89,
            accuracy_m=10,
        )
        for m in minutes
    ]
    return Upload(
        uuid.UUID(family.child_id),
        uuid.UUID(family.device_id),
        items,
        location_policy(runtime.settings).limits(carrier=False),
        [listener],
    )


def groups_of(runtime: Runtime, clock: FrozenClock) -> UploadGroups:
    return UploadGroups(lambda: transaction(runtime.sessions), now=clock.now)


async def test_uploads_that_arrive_while_a_group_is_stored_go_together_in_the_next(
    runtime: Runtime, clock: FrozenClock, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    groups = groups_of(runtime, clock)
    begun, release = asyncio.Event(), asyncio.Event()

    async def hold(session: AsyncSession, events: Sequence[Event]) -> None:
        begun.set()  # inside the first group's transaction
        await release.wait()

    first = asyncio.create_task(
        groups.store(upload_of(runtime, family, clock, range(0, 2)), keep_events=hold)
    )
    await begun.wait()
    later = [
        asyncio.create_task(
            groups.store(
                upload_of(runtime, other_family, clock, range(n, n + 1)), keep_events=_ignore
            )
        )
        for n in range(3)
    ]
    await asyncio.sleep(0)  # handed over while the first group is stored
    release.set()
    results = await asyncio.gather(first, *later)

    assert [r.result.accepted for r in results] == [2, 1, 1, 1]
    assert groups.groups == 2


async def test_uploads_that_arrive_together_share_a_transaction_and_keep_their_answers(
    runtime: Runtime, clock: FrozenClock, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    groups = groups_of(runtime, clock)
    kept: list[tuple[int, list[Event]]] = []

    def keeper(n: int):  # type: ignore[no-untyped-def]
        async def keep(session: AsyncSession, events: Sequence[Event]) -> None:
            assert session.in_transaction()
            kept.append((n, list(events)))

        return keep

    uploads = [
        upload_of(runtime, family, clock, range(0, 5)),
        upload_of(runtime, other_family, clock, range(0, 3)),
        upload_of(runtime, family, clock, range(5, 7)),
        upload_of(runtime, other_family, clock, range(3, 4)),
    ]
    results = await asyncio.gather(
        *(groups.store(u, keep_events=keeper(n)) for n, u in enumerate(uploads))
    )

    assert [r.result.accepted for r in results] == [5, 3, 2, 1]
    assert [str(r.child_id) for r in results] == [
        family.child_id,
        other_family.child_id,
        family.child_id,
        other_family.child_id,
    ]
    assert await stored_count(runtime) == 11
    # Handed over before the group began: all in one transaction.
    assert groups.groups == 1
    # Each upload's listener events were kept for that upload, in the group's transaction.
    assert sorted((n, [e.fixes for e in events]) for n, events in kept) == [  # type: ignore[attr-defined]
        (0, [5]),
        (1, [3]),
        (2, [2]),
        (3, [1]),
    ]
    assert [len(r.events) for r in results] == [1, 1, 1, 1]


async def test_a_fix_sent_twice_in_one_group_is_stored_once_and_accepted_once(
    runtime: Runtime, clock: FrozenClock, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    groups = groups_of(runtime, clock)
    other = upload_of(runtime, other_family, clock, range(0, 1))
    twice = upload_of(runtime, family, clock, range(0, 4))
    results = await asyncio.gather(
        *(groups.store(u, keep_events=_ignore) for u in (other, twice, twice))
    )

    assert groups.groups == 1
    statuses = [[i.status.value for i in r.result.items] for r in results[1:]]
    assert statuses == [["accepted"] * 4, ["duplicate"] * 4]
    assert [len(r.new) for r in results] == [1, 4, 0]
    assert await stored_count(runtime) == 5


async def test_an_upload_that_fails_fails_alone(
    runtime: Runtime, clock: FrozenClock, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    async def broken(
        session: AsyncSession, child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime
    ) -> Sequence[Event]:
        raise RuntimeError("a listener's bug")

    groups = groups_of(runtime, clock)
    uploads = [
        upload_of(runtime, other_family, clock, range(10, 11)),
        upload_of(runtime, family, clock, range(0, 3)),
        upload_of(runtime, other_family, clock, range(0, 2), listener=broken),
        upload_of(runtime, family, clock, range(3, 5)),
    ]
    results = await asyncio.gather(
        *(groups.store(u, keep_events=_ignore) for u in uploads), return_exceptions=True
    )

    assert isinstance(results[2], RuntimeError)
    assert [r.result.accepted for r in results if not isinstance(r, BaseException)] == [1, 3, 2]
    assert await stored_count(runtime) == 6  # nothing of the failed upload
    # The group of four, which failed, then each upload alone.
    assert groups.groups == 5


@pytest.mark.parametrize("size", [1, 3])
async def test_close_waits_for_the_uploads_handed_over(
    runtime: Runtime, clock: FrozenClock, family: FamilyWorld, size: int
) -> None:
    groups = groups_of(runtime, clock)
    pending = [
        asyncio.create_task(
            groups.store(
                upload_of(runtime, family, clock, range(n * 10, n * 10 + 2)),
                keep_events=_ignore,
            )
        )
        for n in range(size)
    ]
    await asyncio.sleep(0)  # handed over
    await groups.close()
    assert all(task.done() for task in pending)
    assert await stored_count(runtime) == 2 * size


async def _ignore(session: AsyncSession, events: Sequence[Event]) -> None:
    return None


async def test_a_group_reads_the_places_and_device_statuses_of_all_its_uploads_at_once(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    for world in (family, other_family):
        created = await client.post(
            f"/v1/children/{world.child_id}/places", headers=world.guardian.headers, json=SCHOOL
        )
        assert created.status_code == 201, created.text
    groups = groups_of(runtime, clock)

    def real(world: FamilyWorld, minutes: range, latitude: float) -> Upload:
        upload = upload_of(runtime, world, clock, minutes)
        items = [item.model_copy(update={"latitude": latitude}) for item in upload.items]
        return replace(upload, items=items, listeners=fix_listeners(runtime))

    # Inside the place; each device gets its status row.
    for world in (family, other_family):
        await groups.store(real(world, range(20, 22), 43.24), keep_events=_ignore)
    # Then both children leave it, two uploads each, in one group.
    uploads = [real(w, range(m, m + 2), 43.26) for w in (family, other_family) for m in (0, 5)]
    with tables_read(runtime) as run:
        results = await asyncio.gather(*(groups.store(u, keep_events=_ignore) for u in uploads))

    assert sum(1 for s in run if s.startswith("SELECT") and "FROM geofence_places" in s) == 1
    assert sum(1 for s in run if s.startswith("SELECT") and "FROM alarm_device_status" in s) == 1
    # What each upload did is what it would have done alone, in turn: each child's first upload
    # left the place; the second's fixes are older (sent late) and cannot make a transition.
    left = [[type(e).__name__ for e in r.events] for r in results]
    assert left == [["PlaceLeft"], [], ["PlaceLeft"], []]


async def test_an_upload_does_not_wait_for_a_slow_group_while_another_may_run(
    runtime: Runtime, clock: FrozenClock, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    if runtime.is_embedded_sqlite:
        pytest.skip("SQLite serialises writing transactions itself")
    groups = UploadGroups(lambda: transaction(runtime.sessions), now=clock.now, max_concurrent=2)
    begun, release = asyncio.Event(), asyncio.Event()

    async def hold(session: AsyncSession, events: Sequence[Event]) -> None:
        begun.set()
        await release.wait()

    slow = asyncio.create_task(
        groups.store(upload_of(runtime, family, clock, range(0, 2)), keep_events=hold)
    )
    await begun.wait()
    quick = await groups.store(
        upload_of(runtime, other_family, clock, range(0, 1)), keep_events=_ignore
    )  # stored and committed while the first group still holds its transaction open
    assert quick.result.accepted == 1
    assert not slow.done()
    release.set()
    assert (await slow).result.accepted == 2
    assert groups.groups == 2
