"""Importing lists into SQL, publishing versions, comparing them; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import publishing, service
from filters.curation.errors import NothingToPublish, SourceExists, VersionNotFound
from filters.curation.models import Source
from filters.engine.formats import parse
from filters.engine.matcher import decide
from filters.engine.rules import Action
from filters.engine.snapshot import Snapshot
from parental.kit.db import transaction
from parental.runtime import Runtime

HOSTS_V1 = ["0.0.0.0 casino.test", "0.0.0.0 poker.test", "0.0.0.0 bet.test"]
HOSTS_V2 = ["0.0.0.0 casino.test", "0.0.0.0 bet.test", "0.0.0.0 slots.test"]


async def source(session: AsyncSession, runtime: Runtime) -> Source:
    now = runtime.clock.now()
    await service.seed_categories(session, now=now)
    return await service.create_source(
        session, name="casinos", category_key="gambling", kind="file", now=now
    )


async def load(session: AsyncSession, runtime: Runtime, src: Source, lines: list[str]) -> None:
    rules, report = parse(lines)
    await service.replace_rules(
        session, src, rules, report=report, actor="curator", now=runtime.clock.now()
    )


def verdict(path: Path, host: str) -> Action:
    snapshot = Snapshot(path)
    try:
        return decide(snapshot, host, "", enabled=(1 << len(snapshot.categories)) - 1).action
    finally:
        snapshot.close()


async def test_publish_compiles_versions_that_never_change(
    runtime: Runtime, tmp_path: Path
) -> None:
    def snap(n: int) -> Path:
        return tmp_path / f"{n}.snap"

    async with transaction(runtime.sessions) as session:
        src = await source(session, runtime)
        await load(session, runtime, src, HOSTS_V1)
        v1 = await publishing.publish(
            session, snapshot_path=snap, actor="curator", now=runtime.clock.now()
        )
    assert v1.number == 1
    assert v1.counts["rules"] == 3
    assert verdict(snap(1), "poker.test") is Action.BLOCK
    assert verdict(snap(1), "www.poker.test") is Action.ALLOW  # hosts rules are exact

    async with transaction(runtime.sessions) as session:
        src = await session.get(Source, src.id)
        assert src is not None
        await load(session, runtime, src, HOSTS_V2)
        v2 = await publishing.publish(
            session, snapshot_path=snap, actor="curator", now=runtime.clock.now()
        )
    assert verdict(snap(2), "poker.test") is Action.ALLOW
    assert verdict(snap(2), "slots.test") is Action.BLOCK

    async with transaction(runtime.sessions) as session:
        changes = await publishing.diff(session, 1, 2)
        assert [e.host for e in changes.added] == ["slots.test"]
        assert [e.host for e in changes.removed] == ["poker.test"]
        # Version 1 rebuilt from SQL after version 2 exists is still version 1.
        counts = await publishing.compile_version(session, 1, tmp_path / "again.snap")
    assert counts["rules"] == 3
    assert verdict(tmp_path / "again.snap", "poker.test") is Action.BLOCK
    assert verdict(tmp_path / "again.snap", "slots.test") is Action.ALLOW
    assert v2.sources == v1.sources


async def test_reimporting_the_same_list_changes_nothing(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        src = await source(session, runtime)
        rules, report = parse(HOSTS_V1)
        first = await service.replace_rules(
            session, src, rules, report=report, actor="import", now=runtime.clock.now()
        )
        again = await service.replace_rules(
            session, src, rules, report=report, actor="import", now=runtime.clock.now()
        )
    assert (first.added, first.removed) == (3, 0)
    assert (again.added, again.removed, again.unchanged) == (0, 0, 3)
    assert src.last_report is not None
    assert src.last_report["accepted"] == 3


async def test_errors(runtime: Runtime, tmp_path: Path) -> None:
    async with transaction(runtime.sessions) as session:
        with pytest.raises(NothingToPublish):
            await publishing.publish(
                session,
                snapshot_path=lambda n: tmp_path / f"{n}",
                actor="x",
                now=runtime.clock.now(),
            )
        await source(session, runtime)
        with pytest.raises(SourceExists):
            await service.create_source(
                session,
                name="casinos",
                category_key="gambling",
                kind="file",
                now=runtime.clock.now(),
            )
        with pytest.raises(VersionNotFound):
            await publishing.diff(session, 1, 2)
        assert await service.seed_categories(session, now=runtime.clock.now()) == 0


async def test_rollback_publishes_the_old_content_as_a_new_version(
    runtime: Runtime, tmp_path: Path
) -> None:
    def snap(n: int) -> Path:
        return tmp_path / f"{n}.snap"

    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        src = await source(session, runtime)
        await load(session, runtime, src, HOSTS_V1)
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)
        await load(session, runtime, src, HOSTS_V2)
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)
        v3 = await publishing.rollback(session, to=1, snapshot_path=snap, actor="c", now=now)
    assert (v3.number, v3.rolled_back_to) == (3, 1)
    assert verdict(snap(3), "poker.test") is Action.BLOCK
    assert verdict(snap(3), "slots.test") is Action.ALLOW
    async with transaction(runtime.sessions) as session:
        same = await publishing.diff(session, 1, 3)
        assert (same.added, same.removed) == ([], [])
        changed = await publishing.diff(session, 2, 3)
        assert [e.host for e in changed.added] == ["poker.test"]
        assert [e.host for e in changed.removed] == ["slots.test"]
        # Versions 1 and 2 are untouched by the rollback.
        await publishing.compile_version(session, 2, tmp_path / "two.snap")
    assert verdict(tmp_path / "two.snap", "slots.test") is Action.BLOCK


async def test_publishing_nothing_new_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    def snap(n: int) -> Path:
        return tmp_path / f"{n}.snap"

    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        src = await source(session, runtime)
        await load(session, runtime, src, HOSTS_V1)
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)
        with pytest.raises(NothingToPublish, match="since version 1"):
            await publishing.publish(session, snapshot_path=snap, actor="c", now=now)
        await load(session, runtime, src, HOSTS_V1)  # the same list again: still nothing
        with pytest.raises(NothingToPublish):
            await publishing.publish(session, snapshot_path=snap, actor="c", now=now)
        with pytest.raises(NothingToPublish, match="in force"):
            await publishing.rollback(session, to=1, snapshot_path=snap, actor="c", now=now)
        # Renaming or disabling a source is a change: the version names its sources.
        src.name = "casinos-renamed"
        v2 = await publishing.publish(session, snapshot_path=snap, actor="c", now=now)
        assert v2.sources[0][1] == "casinos-renamed"


async def test_a_rollback_fulfils_a_pending_removal_for_good(
    runtime: Runtime, tmp_path: Path
) -> None:
    """A rule removed in the draft and also dropped by a rollback stays out of the rollback's
    version when the draft is published later."""

    def snap(n: int) -> Path:
        return tmp_path / f"{n}.snap"

    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        src = await source(session, runtime)
        await load(session, runtime, src, ["0.0.0.0 casino.test"])
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)  # v1
        await load(session, runtime, src, ["0.0.0.0 casino.test", "0.0.0.0 slots.test"])
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)  # v2
        await load(session, runtime, src, ["0.0.0.0 casino.test"])  # slots.test: pending removal
        await publishing.rollback(session, to=1, snapshot_path=snap, actor="c", now=now)  # v3
        await load(session, runtime, src, ["0.0.0.0 casino.test", "0.0.0.0 poker.test"])
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)  # v4
        await publishing.compile_version(session, 3, tmp_path / "three-again.snap")
    assert verdict(tmp_path / "three-again.snap", "slots.test") is Action.ALLOW
    assert verdict(snap(4), "slots.test") is Action.ALLOW
    assert verdict(snap(4), "poker.test") is Action.BLOCK


async def test_a_rollback_keeps_a_rule_removed_and_added_again_since(
    runtime: Runtime, tmp_path: Path
) -> None:
    def snap(n: int) -> Path:
        return tmp_path / f"{n}.snap"

    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        src = await source(session, runtime)
        await load(session, runtime, src, ["0.0.0.0 casino.test"])
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)  # v1
        await load(session, runtime, src, ["0.0.0.0 poker.test"])
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)  # v2
        await load(session, runtime, src, ["0.0.0.0 casino.test", "0.0.0.0 poker.test"])
        await publishing.publish(session, snapshot_path=snap, actor="c", now=now)  # v3: a new row
        v4 = await publishing.rollback(session, to=1, snapshot_path=snap, actor="c", now=now)
        same = await publishing.diff(session, 1, v4.number)
    assert (same.added, same.removed) == ([], [])
    assert verdict(snap(4), "casino.test") is Action.BLOCK
    assert verdict(snap(4), "poker.test") is Action.ALLOW
