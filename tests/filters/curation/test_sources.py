"""Sources and imports at the service level: settings that must fit the kind, imports of real
lists with their report, lists that change nothing, deleting only what no version holds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import publishing, service, sources
from filters.curation.errors import (
    CategoryNotFound,
    ImportRefused,
    InvalidList,
    InvalidSource,
    SourceExists,
    SourcePublished,
)
from filters.curation.models import Entry, Import, Source
from filters.curation.schemas import SourceCreate, SourceUpdate
from filters.engine.rules import Format
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.filters.curation.conftest import BLOCKLISTS


def body(**fields: Any) -> SourceCreate:
    return SourceCreate.model_validate({"category": "drugs", "kind": "file", **fields})


async def make(session: AsyncSession, runtime: Runtime, **fields: Any) -> Source:
    return await sources.create(session, body(**fields), now=runtime.clock.now())


async def entry_count(session: AsyncSession, source: Source) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Entry).where(Entry.source_id == source.id)
        )
        or 0
    )


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "u", "kind": "url"}, InvalidSource),  # a URL source without a url
        ({"name": "f", "url": "https://lists.test/a.txt"}, InvalidSource),  # a file with one
        ({"name": "f", "refresh_interval_seconds": 3600}, InvalidSource),
        ({"name": "f", "auto_publish": True}, InvalidSource),
        ({"name": "m", "kind": "manual", "format": "hosts"}, InvalidSource),
        ({"name": "manual:drugs", "kind": "manual"}, InvalidSource),  # reserved names
        ({"name": "x", "category": "nope"}, CategoryNotFound),
    ],
)
async def test_settings_must_fit_the_kind(
    runtime: Runtime, fields: dict[str, Any], error: type[Exception]
) -> None:
    async with transaction(runtime.sessions) as session:
        with pytest.raises(error):
            await make(session, runtime, **fields)
        assert await sources.list_sources(session) == []


async def test_create_update_and_the_refresh_schedule(runtime: Runtime, clock: FrozenClock) -> None:
    async with transaction(runtime.sessions) as session:
        feed = await make(
            session,
            runtime,
            name="feed",
            kind="url",
            url="https://lists.test/feed.txt",
            refresh_interval_seconds=3600,
        )
        assert feed.next_refresh_at == clock.now()  # due at once
        await make(session, runtime, name="other")
        with pytest.raises(SourceExists):
            await sources.update(session, feed, SourceUpdate(name="other"), now=clock.now())
        with pytest.raises(InvalidSource):
            await sources.update(
                session, feed, SourceUpdate.model_validate({"url": None}), now=clock.now()
            )
        feed.etag, feed.last_modified = '"v1"', "Tue, 24 Nov 2026 10:00:00 GMT"
        feed.last_checked_at = clock.now()
        clock.advance(timedelta(minutes=10))
        changed = await sources.update(
            session,
            feed,
            SourceUpdate.model_validate(
                {"url": "https://mirror.test/feed.txt", "format": "hosts", "auto_publish": True}
            ),
            now=clock.now(),
        )
        assert changed == {
            "url": "https://mirror.test/feed.txt",
            "format": "hosts",
            "auto_publish": True,
        }
        # Another server's validators mean nothing, and the new URL is due at once.
        assert (feed.etag, feed.last_modified) == (None, None)
        assert feed.next_refresh_at == clock.now()
        back = await sources.update(
            session, feed, SourceUpdate.model_validate({"format": None}), now=clock.now()
        )
        assert back == {"format": None}
        assert await sources.update(session, feed, SourceUpdate(), now=clock.now()) == {}
        read = await sources.read(session, feed)
    assert read.category == "drugs"
    assert (read.kind, read.format, read.auto_publish) == ("url", None, True)


async def test_importing_a_real_hosts_list_reports_every_line(runtime: Runtime) -> None:
    data = (BLOCKLISTS / "blocklistproject" / "drugs.hosts.txt").read_bytes()
    async with transaction(runtime.sessions) as session:
        src = await make(session, runtime, name="blp-drugs")
        result = await sources.import_list(
            session, src, data, fmt=None, actor="staff:a", now=runtime.clock.now()
        )
        read = sources.import_read(result)
        assert read.report is not None
        report = read.report
        assert report.format is Format.HOSTS
        assert report.lines_read == 26042
        assert report.accepted + report.duplicates + report.skipped + report.rejected == 26042
        assert report.accepted == read.added == await entry_count(session, src)
        assert report.accepted > 25000
        assert (read.removed, read.unchanged, read.origin, read.actor) == (
            0,
            0,
            "upload",
            "staff:a",
        )
        assert len(report.rejections) == min(report.rejected, service.REPORTED_REJECTIONS)
        listed = await sources.read(session, src)
        assert listed.draft_entries == report.accepted
        assert listed.last_report == report
        # The rows know the import and line they came from.
        row = await session.scalar(
            select(Entry).where(Entry.source_id == src.id, Entry.host == "0830bbs.com")
        )
        assert row is not None
        assert (row.import_id, row.line, row.scope) == (read.id, 20, "exact")


async def test_a_format_override_and_plain_names_exact(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        src = await make(session, runtime, name="plain", plain_names="exact")
        result = await sources.import_list(
            session, src, b"a.test\nb.test\n", fmt=None, actor="t", now=runtime.clock.now()
        )
        assert result.added == 2
        rows = (await session.scalars(select(Entry.scope).where(Entry.source_id == src.id))).all()
        assert set(rows) == {"exact"}
        # Read as AdBlock, a bare name is exact too; "||x^" is a subtree.
        again = await sources.import_list(
            session, src, b"||a.test^\n", fmt=Format.ADBLOCK, actor="t", now=runtime.clock.now()
        )
        assert (again.added, again.removed, again.unchanged) == (1, 2, 0)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"# only a comment\n\n",
        b"<html><body>Service unavailable, try again later</body></html>\n" * 3,
        b"0.0.0.0 bad..name\n0.0.0.0 also..bad\n",  # hosts, every line rejected
    ],
)
async def test_a_list_that_gives_no_rule_changes_nothing(runtime: Runtime, data: bytes) -> None:
    async with transaction(runtime.sessions) as session:
        src = await make(session, runtime, name="drugs-list")
        await sources.import_list(
            session, src, b"0.0.0.0 kept.test\n", fmt=None, actor="t", now=runtime.clock.now()
        )
        with pytest.raises(InvalidList):
            await sources.import_list(
                session, src, data, fmt=None, actor="t", now=runtime.clock.now()
            )
        assert await entry_count(session, src) == 1
        assert len(list((await session.scalars(select(Import))).all())) == 1


async def test_undecodable_lines_are_rejected_one_by_one(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        src = await make(session, runtime, name="mixed")
        result = await sources.import_list(
            session,
            src,
            b"ok.test\nbad\xff\xfe.test\nfine.test\n",
            fmt=Format.DOMAINS,
            actor="t",
            now=runtime.clock.now(),
        )
    read = sources.import_read(result)
    assert read.added == 2
    assert read.report is not None
    assert [(r.line, r.reason) for r in read.report.rejections] == [(2, "not valid UTF-8")]


async def test_manual_sources_refuse_imports(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        await service.seed_categories(session, now=runtime.clock.now())
        manual = await service.manual_source(session, "drugs", now=runtime.clock.now())
        with pytest.raises(ImportRefused):
            await sources.import_list(
                session, manual, b"a.test\n", fmt=None, actor="t", now=runtime.clock.now()
            )


async def test_an_upload_into_a_url_source_forgets_the_validators(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        src = await make(session, runtime, name="u", kind="url", url="https://l.test/x")
        src.etag, src.last_modified = '"abc"', "Tue, 24 Nov 2026 10:00:00 GMT"
        await sources.import_list(
            session, src, b"a.test\n", fmt=None, actor="t", now=runtime.clock.now()
        )
        assert (src.etag, src.last_modified) == (None, None)


async def test_only_a_source_no_version_holds_may_be_deleted(
    runtime: Runtime, tmp_path: Any
) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        kept = await make(session, runtime, name="published")
        await sources.import_list(session, kept, b"a.test\n", fmt=None, actor="t", now=now)
        await publishing.publish(
            session, snapshot_path=lambda n: tmp_path / f"{n}.snap", actor="t", now=now
        )
        fresh = await make(session, runtime, name="fresh")
        await sources.import_list(session, fresh, b"b.test\n", fmt=None, actor="t", now=now)
        assert (await sources.read(session, kept)).published
        with pytest.raises(SourcePublished):
            await sources.delete(session, kept)
        # Disabled, it is still in version 1, and still may not go.
        await sources.update(session, kept, SourceUpdate(enabled=False), now=now)
        with pytest.raises(SourcePublished):
            await sources.delete(session, kept)
        await sources.delete(session, fresh)
        assert [s.name for s in await sources.list_sources(session)] == ["published"]
        assert await entry_count(session, fresh) == 0
        assert (await session.scalar(select(func.count()).select_from(Import))) == 1
