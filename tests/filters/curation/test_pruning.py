"""The worker prunes published files: after 15 versions the snapshot and zone files of the
version in force and the 10 before it remain, and a pruned version can still be rolled back to
and its zone served, both rebuilt from SQL."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from filters.curation import publishing
from filters.curation import service as curation
from filters.curation.models import Source
from filters.engine.formats import parse
from filters.engine.matcher import decide
from filters.engine.rules import Action
from filters.rpz import service as rpz
from parental.kit.db import transaction
from parental.rpz import runtime_zone_cache, zone_options
from parental.runtime import Runtime
from parental.worker import purge_expired


async def publish_version(runtime: Runtime, source_id: uuid.UUID, number: int) -> int:
    """Publish a list that blocks ``v<number>.test`` alone, put it in force, write its zone."""
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        source = await session.get(Source, source_id)
        assert source is not None
        rules, report = parse([f"v{number}.test"])
        await curation.replace_rules(session, source, rules, report=report, actor="t", now=now)
        version = await publishing.publish(
            session, snapshot_path=runtime.snapshots.path_for_number, actor="t", now=now
        )
    await runtime.snapshots.publish(str(version.number), None)
    await zone_path(runtime, version.number)
    return version.number


async def zone_path(runtime: Runtime, number: int) -> Path:
    async with runtime.sessions() as session:
        zone = await rpz.category_zone(
            session,
            runtime_zone_cache(runtime),
            key="drugs",
            options=zone_options(runtime),
            version=number,
        )
    return zone.path


def versions_on_disk(runtime: Runtime) -> tuple[list[int], list[int]]:
    """The version numbers of the snapshot files and of the zone files there are."""
    snapshots = runtime.snapshots.directory.glob("*.snap")
    zones = runtime_zone_cache(runtime).directory.glob("*.zone")
    return (
        sorted(int(p.stem) for p in snapshots),
        sorted(int(p.name.split(".v")[-1].split(".")[0]) for p in zones),
    )


def blocks(runtime: Runtime, host: str) -> bool:
    snapshot = runtime.snapshots.current
    assert snapshot is not None
    everything = (1 << len(snapshot.categories)) - 1
    return decide(snapshot, host, "", enabled=everything).action is Action.BLOCK


async def test_the_worker_keeps_the_version_in_force_and_the_10_before_it(
    runtime: Runtime,
) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await curation.seed_categories(session, now=now)
        source = await curation.create_source(
            session, name="drugs", category_key="drugs", kind="file", now=now
        )
    for number in range(1, 16):
        assert await publish_version(runtime, source.id, number) == number
    assert versions_on_disk(runtime) == (list(range(1, 16)), list(range(1, 16)))
    hour_ago = time.time() - 3600  # zones written in the last minutes are left for now
    for path in runtime_zone_cache(runtime).directory.glob("*.zone"):
        os.utime(path, (hour_ago, hour_ago))

    report = await purge_expired(runtime)

    assert report.published_files == 8
    assert report.total == 0  # rows only
    assert versions_on_disk(runtime) == (list(range(5, 16)), list(range(5, 16)))
    assert runtime.snapshots.version == "15"
    assert (await purge_expired(runtime)).published_files == 0

    # Version 2's files are gone, its rows are not: a rollback recompiles it.
    async with transaction(runtime.sessions) as session:
        back = await publishing.rollback(
            session, to=2, snapshot_path=runtime.snapshots.path_for_number, actor="t", now=now
        )
    await runtime.snapshots.publish(str(back.number), None)
    assert (back.number, blocks(runtime, "v2.test"), blocks(runtime, "v15.test")) == (
        16,
        True,
        False,
    )
    # And a zone of a pruned version asked for again is written again.
    old_zone = await zone_path(runtime, 3)
    assert "v3.test" in old_zone.read_text(encoding="ascii")


async def test_fresh_zone_files_of_old_versions_wait(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await curation.seed_categories(session, now=now)
        source = await curation.create_source(
            session, name="drugs", category_key="drugs", kind="file", now=now
        )
    for number in range(1, 13):
        await publish_version(runtime, source.id, number)

    await purge_expired(runtime)

    snapshots, zones = versions_on_disk(runtime)
    assert (snapshots, zones) == (list(range(2, 13)), list(range(1, 13)))
    pruned = runtime_zone_cache(runtime).prune(2, recent_seconds=0)
    assert [p.name.split(".v")[-1] for p in pruned] == ["1.ttl300.zone"]
