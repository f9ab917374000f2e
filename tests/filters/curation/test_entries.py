"""Single entries at the service level: ``manual_source``, ``add_entry`` and ``remove_entry``
(the functions the reports queue calls too), searching, and one rule's history through
publishes, removals and a rollback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import entries, publishing, service, sources
from filters.curation.errors import (
    CategoryNotFound,
    EntryNotFound,
    InvalidEntry,
    SourceNotFound,
)
from filters.curation.models import Source
from filters.curation.schemas import EntryCreate, EntryPage, LiveRange, SourceCreate
from filters.engine.rules import Action
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.paging import InvalidCursor
from parental.runtime import Runtime


async def file_source(session: AsyncSession, runtime: Runtime, name: str = "drugs-list") -> Source:
    return await sources.create(
        session,
        SourceCreate(name=name, category="drugs", kind="file"),
        now=runtime.clock.now(),
    )


async def test_manual_sources_are_made_once_per_category(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await service.seed_categories(session, now=now)
        first = await service.manual_source(session, "self_harm", now=now)
        again = await service.manual_source(session, "self_harm", now=now)
        other = await service.manual_source(session, "drugs", now=now)
        assert first.id == again.id != other.id
        assert (first.name, first.kind) == ("manual:self_harm", "manual")
        with pytest.raises(CategoryNotFound):
            await service.manual_source(session, "nope", now=now)


async def test_add_entry_normalises_and_keeps_provenance(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await service.seed_categories(session, now=now)
        manual = await service.manual_source(session, "self_harm", now=now)

        async def add(target: str, **kw: bool) -> tuple[str, str, str]:
            row = await service.add_entry(
                session,
                source=manual,
                target=target,
                action=Action.BLOCK,
                actor="staff:x",
                reason="report 17",
                now=now,
                **kw,
            )
            assert (row.added_by, row.reason, row.added_at, row.added_in) == (
                "staff:x",
                "report 17",
                now,
                None,
            )
            return row.host, row.scope, row.path

        assert await add("Harm.TEST.") == ("harm.test", "subtree", "")
        assert await add("only.harm.test", subdomains=False) == ("only.harm.test", "exact", "")
        assert await add("https://www.forum.test/threads/42?x=1") == (
            "www.forum.test",
            "url",
            "/threads/42",
        )
        assert await add("10.0.0.1") == ("10.0.0.1", "exact", "")
        with pytest.raises(InvalidEntry):
            await add("not a name")
        # The same rule again is the same row, not a second one.
        first = await service.add_entry(
            session,
            source=manual,
            target="harm.test",
            action=Action.BLOCK,
            actor="other",
            reason="again",
            now=now,
        )
        page = await entries.search(
            session,
            contains=None,
            suffix="harm.test",
            source_id=None,
            category=None,
            state=None,
            limit=10,
            cursor=None,
        )
        assert [e.host for e in page.items].count("harm.test") == 1
        assert first.added_by == "staff:x"


async def test_remove_entry_keeps_who_when_why(
    runtime: Runtime, clock: FrozenClock, tmp_path: Path
) -> None:
    now = clock.now()
    async with transaction(runtime.sessions) as session:
        src = await file_source(session, runtime)
        await sources.import_list(
            session, src, b"weed.test\npills.test\n", fmt=None, actor="import", now=now
        )
        await publishing.publish(
            session, snapshot_path=lambda n: tmp_path / f"{n}", actor="c", now=now
        )
        page = await entries.search(
            session,
            contains="weed",
            suffix=None,
            source_id=src.id,
            category="drugs",
            state="live",
            limit=10,
            cursor=None,
        )
        [weed] = page.items
        clock.advance(timedelta(hours=1))
        removed = await service.remove_entry(
            session, weed.id, actor="staff:y", reason="false positive", now=clock.now()
        )
        assert (removed.removed_by, removed.removed_at, removed.removal_reason) == (
            "staff:y",
            clock.now(),
            "false positive",
        )
        assert entries.state_of(removed) == "pending_removal"
        with pytest.raises(EntryNotFound):
            await service.remove_entry(
                session, weed.id, actor="staff:y", reason="twice", now=clock.now()
            )
        # Still live until the next publish, and no longer in the draft.
        for state, hosts in (
            ("live", ["pills.test", "weed.test"]),
            ("draft", ["pills.test"]),
            ("pending", ["weed.test"]),
            ("removed", ["weed.test"]),
        ):
            found = await search_all(session, state=state)
            assert sorted(e.host for e in found.items) == hosts, state


async def search_all(session: AsyncSession, **filters: str) -> EntryPage:
    return await entries.search(
        session,
        contains=filters.get("contains"),
        suffix=filters.get("suffix"),
        source_id=None,
        category=filters.get("category"),
        state=filters.get("state"),
        limit=100,
        cursor=None,
    )


async def test_search_filters_and_pages(runtime: Runtime, clock: FrozenClock) -> None:
    async with transaction(runtime.sessions) as session:
        src = await file_source(session, runtime)
        lines = "".join(f"host{i:02}.shop.test\n" for i in range(25)) + "shop.test\nxshop.test\n"
        await sources.import_list(
            session, src, lines.encode(), fmt=None, actor="i", now=clock.now()
        )
        clock.advance(timedelta(minutes=1))
        entry, _ = await entries.add(
            session,
            EntryCreate(category="gambling", target="casino.test", action="block", reason="r"),
            actor="staff:z",
            now=clock.now(),
        )
        suffix = await search_all(session, suffix="SHOP.test.")
        assert len(suffix.items) == 26  # the name and its subdomains, not xshop.test
        assert {e.host for e in (await search_all(session, contains="_")).items} == set()
        assert [e.host for e in (await search_all(session, category="gambling")).items] == [
            "casino.test"
        ]
        newest = (await search_all(session)).items[0]
        assert (newest.id, newest.source_name, newest.state) == (
            entry.id,
            "manual:gambling",
            "draft",
        )

        seen: list[str] = []
        cursor = None
        while True:
            page = await entries.search(
                session,
                contains="shop",
                suffix=None,
                source_id=src.id,
                category=None,
                state=None,
                limit=10,
                cursor=cursor,
            )
            seen += [e.host for e in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == 27

        with pytest.raises(InvalidCursor):
            await entries.search(
                session,
                contains=None,
                suffix=None,
                source_id=None,
                category=None,
                state=None,
                limit=10,
                cursor="garbage",
            )
        with pytest.raises(SourceNotFound):
            await entries.search(
                session,
                contains=None,
                suffix=None,
                source_id=entry.id,  # an entry's id is no source's
                category=None,
                state=None,
                limit=10,
                cursor=None,
            )
        with pytest.raises(InvalidEntry):
            await search_all(session, suffix="bad..name")
        with pytest.raises(InvalidEntry):
            await entries.add(
                session,
                EntryCreate(
                    source_id=src.id, category="drugs", target="a.test", action="block", reason="r"
                ),
                actor="s",
                now=clock.now(),
            )


async def test_history_through_publish_removal_and_rollback(
    runtime: Runtime, clock: FrozenClock, tmp_path: Path
) -> None:
    def snap(n: int) -> Path:
        return tmp_path / f"{n}.snap"

    async with transaction(runtime.sessions) as session:
        src = await file_source(session, runtime)
        result = await sources.import_list(
            session, src, b"# list\nweed.test\n", fmt=None, actor="staff:a", now=clock.now()
        )
        await publishing.publish(session, snapshot_path=snap, actor="c", now=clock.now())  # v1
        [weed] = (await search_all(session, contains="weed")).items
        clock.advance(timedelta(days=1))
        await service.remove_entry(
            session, weed.id, actor="staff:b", reason="gone", now=clock.now()
        )
        await publishing.publish(session, snapshot_path=snap, actor="c", now=clock.now())
        await publishing.rollback(
            session, to=1, snapshot_path=snap, actor="c", now=clock.now()
        )  # v3

        history = await entries.history(session, await entries.get(session, weed.id))

    assert history.entry.id == weed.id
    assert history.imported is not None
    assert (history.imported.id, history.imported.actor) == (result.record.id, "staff:a")  # type: ignore[union-attr]
    assert history.entry.line == 2
    assert [(r.added_in, r.removed_in, r.state) for r in history.rows] == [
        (1, 2, "removed"),
        (3, None, "live"),
    ]
    assert history.rows[0].removed_by == "staff:b"
    assert history.rows[1].reason == "rollback to version 1"
    assert history.rows[1].import_id == result.record.id  # type: ignore[union-attr]
    assert history.live_in == [LiveRange(first=1, last=1), LiveRange(first=3, last=None)]
