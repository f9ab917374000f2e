"""Refreshing URL sources against a real HTTP server on 127.0.0.1, with the real httpx client:
conditional GETs, every way a refresh fails, the schedule, claims and auto-publishing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import publishing, refresh, sources
from filters.curation.errors import NotRefreshable
from filters.curation.models import Entry, Import, Source
from filters.curation.refresh import Outcome, RefreshResult
from filters.curation.schemas import SourceCreate
from filters.engine.matcher import decide
from filters.engine.rules import Action
from filters.engine.snapshot import Snapshot
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.filters.curation.listserver import LOOPBACK, ListServer, closed_port_url

HOUR = 3600
V1 = ["0.0.0.0 malware-one.test", "0.0.0.0 malware-two.test"]
V2 = ["0.0.0.0 malware-two.test", "0.0.0.0 malware-three.test"]
DATE1 = "Tue, 24 Nov 2026 10:00:00 GMT"
DATE2 = "Wed, 25 Nov 2026 08:00:00 GMT"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with refresh.new_client(LOOPBACK) as http:
        yield http


async def feed(runtime: Runtime, url: str, **fields: Any) -> Source:
    async with transaction(runtime.sessions) as session:
        body = SourceCreate.model_validate(
            {
                "name": "feed",
                "category": "malware_phishing",
                "kind": "url",
                "url": url,
                "refresh_interval_seconds": HOUR,
                **fields,
            }
        )
        return await sources.create(session, body, now=runtime.clock.now(), egress=LOOPBACK)


async def run(
    runtime: Runtime,
    source: Source,
    client: httpx.AsyncClient,
    tmp_path: Path,
    *,
    time_limit: float = 10.0,
) -> RefreshResult:
    async with transaction(runtime.sessions) as session:
        row = await session.get(Source, source.id)
        assert row is not None
        return await refresh.refresh_source(
            session,
            row,
            client=client,
            actor="system:refresh",
            now=runtime.clock.now(),
            snapshot_path=lambda n: tmp_path / f"{n}.snap",
            time_limit=time_limit,
        )


async def state(runtime: Runtime, source: Source) -> tuple[Source, list[str]]:
    """The source as stored, and the hosts its draft holds."""
    async with runtime.sessions() as session:
        row = await session.get(Source, source.id)
        assert row is not None
        hosts = await session.scalars(
            select(Entry.host)
            .where(Entry.source_id == source.id, Entry.removed_in.is_(None))
            .where(Entry.remove_pending.is_(False))
            .order_by(Entry.host)
        )
        return row, list(hosts.all())


async def import_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Import)) or 0)


async def test_conditional_get_imports_once_then_304s(
    runtime: Runtime,
    server: ListServer,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    server.publish(V1, etag='"v1"', last_modified=DATE1)
    source = await feed(runtime, server.url)

    first = await run(runtime, source, client, tmp_path)
    assert first.outcome is Outcome.UPDATED
    assert first.imported is not None
    assert (first.imported.added, first.imported.removed) == (2, 0)
    assert "if-none-match" not in server.requests[0]
    row, hosts = await state(runtime, source)
    assert hosts == ["malware-one.test", "malware-two.test"]
    assert (row.etag, row.last_modified, row.refresh_status) == ('"v1"', DATE1, "updated")
    assert row.last_checked_at == clock.now()
    assert row.next_refresh_at == clock.now() + timedelta(hours=1)
    assert row.last_report is not None
    assert row.last_report["format"] == "hosts"

    clock.advance(timedelta(hours=1))
    second = await run(runtime, source, client, tmp_path)
    assert second.outcome is Outcome.NOT_MODIFIED
    assert server.requests[1]["if-none-match"] == '"v1"'
    assert server.requests[1]["if-modified-since"] == DATE1
    row, same = await state(runtime, source)
    assert same == hosts
    assert row.last_checked_at == clock.now()
    assert row.refresh_status == "not_modified"
    async with runtime.sessions() as session:
        assert await import_count(session) == 1

    # A server that only knows dates still answers 304 to If-Modified-Since.
    server.etag = None
    third = await run(runtime, source, client, tmp_path)
    assert third.outcome is Outcome.NOT_MODIFIED

    server.publish(V2, etag='"v2"', last_modified=DATE2)
    fourth = await run(runtime, source, client, tmp_path)
    assert fourth.outcome is Outcome.UPDATED
    assert fourth.imported is not None
    assert (fourth.imported.added, fourth.imported.removed, fourth.imported.unchanged) == (1, 1, 1)
    row, hosts = await state(runtime, source)
    assert hosts == ["malware-three.test", "malware-two.test"]
    assert (row.etag, row.last_modified) == ('"v2"', DATE2)
    assert fourth.version is None  # auto_publish is off by default


async def test_a_list_fetched_whole_but_unchanged_leaves_no_import_behind(
    runtime: Runtime, server: ListServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    server.body = b"0.0.0.0 same.test\n"  # no validators: every refresh gets the whole list
    source = await feed(runtime, server.url)
    assert (await run(runtime, source, client, tmp_path)).outcome is Outcome.UPDATED
    again = await run(runtime, source, client, tmp_path)
    assert again.outcome is Outcome.UNCHANGED
    assert again.imported is not None
    assert (again.imported.added, again.imported.unchanged, again.imported.record) == (0, 1, None)
    assert "if-none-match" not in server.requests[1]
    row, _ = await state(runtime, source)
    assert row.refresh_status == "unchanged"
    async with runtime.sessions() as session:
        assert await import_count(session) == 1


@pytest.mark.parametrize(
    ("breakage", "error"),
    [
        ("status", "HTTP 500 Internal Server Error"),
        ("refused", "ConnectError"),
        ("hang", "timed out after 0.5 s"),
        ("garbage", "The list could not be read in any known format"),
        ("empty", "no entries to tell the format from"),
        ("rejected", "Not one rule could be read as hosts: 2 lines, 2 rejected"),
    ],
)
async def test_a_failed_refresh_keeps_the_last_good_rules(
    runtime: Runtime,
    server: ListServer,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    tmp_path: Path,
    breakage: str,
    error: str,
) -> None:
    server.publish(V1, etag='"v1"', last_modified=DATE1)
    source = await feed(runtime, server.url)
    assert (await run(runtime, source, client, tmp_path)).outcome is Outcome.UPDATED
    good, good_hosts = await state(runtime, source)

    clock.advance(timedelta(hours=1))
    server.publish(V2, etag='"v2"', last_modified=DATE2)
    if breakage == "status":
        server.status = 500
    elif breakage == "refused":
        async with transaction(runtime.sessions) as session:
            row = await session.get(Source, source.id)
            assert row is not None
            row.url = closed_port_url()
    elif breakage == "hang":
        server.hang = True
    elif breakage == "garbage":
        server.body = b"<html><body><h1>Maintenance</h1></body></html>\n" * 5
    elif breakage == "empty":
        server.body = b"# nothing here yet\n"
    else:
        server.body = b"0.0.0.0 bad..name\n0.0.0.0 -also-bad-\n"

    # Only the hanging server needs a short limit: on a busy CI machine a 500 once took longer
    # than half a second to arrive and was reported as a timeout.
    result = await run(
        runtime, source, client, tmp_path, time_limit=0.5 if breakage == "hang" else 30.0
    )

    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert error in result.error
    row, hosts = await state(runtime, source)
    assert hosts == good_hosts
    assert (row.etag, row.last_modified) == (good.etag, good.last_modified)
    assert row.last_import_at == good.last_import_at
    assert row.last_error == result.error
    assert row.last_error_at == row.last_checked_at == clock.now()
    assert row.refresh_status == "failed"
    assert row.next_refresh_at == clock.now() + refresh.RETRY_AFTER_FAILURE


async def test_a_list_larger_than_the_limit_is_cut_off(
    server: ListServer, client: httpx.AsyncClient
) -> None:
    server.publish(V1, etag='"v1"', last_modified=DATE1)
    size = len(server.body)
    fetched = await refresh.fetch(client, server.url, etag=None, last_modified=None, max_bytes=size)
    assert fetched.data == server.body
    with pytest.raises(refresh.FetchFailed, match=f"larger than {size - 1} bytes"):
        await refresh.fetch(client, server.url, etag=None, last_modified=None, max_bytes=size - 1)


async def test_a_success_after_a_failure_clears_the_error(
    runtime: Runtime, server: ListServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    server.publish(V1, etag='"v1"', last_modified=DATE1)
    source = await feed(runtime, server.url)
    server.status = 503
    assert (await run(runtime, source, client, tmp_path)).outcome is Outcome.FAILED
    server.status = 200
    assert (await run(runtime, source, client, tmp_path)).outcome is Outcome.UPDATED
    row, _ = await state(runtime, source)
    assert (row.last_error, row.last_error_at, row.refresh_status) == (None, None, "updated")


async def test_only_url_sources_are_refreshed(
    runtime: Runtime, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with transaction(runtime.sessions) as session:
        file = await sources.create(
            session,
            SourceCreate(name="file", category="drugs", kind="file"),
            now=runtime.clock.now(),
        )
        with pytest.raises(NotRefreshable):
            await refresh.refresh_source(
                session,
                file,
                client=client,
                actor="t",
                now=runtime.clock.now(),
                snapshot_path=lambda n: tmp_path / str(n),
            )


async def test_auto_publish_publishes_this_source_and_nothing_else(
    runtime: Runtime, server: ListServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    now = runtime.clock.now()
    server.publish(V1, etag='"v1"', last_modified=DATE1)
    source = await feed(runtime, server.url, auto_publish=True)
    async with transaction(runtime.sessions) as session:
        other = await sources.create(
            session, SourceCreate(name="curated", category="drugs", kind="file"), now=now
        )
        await sources.import_list(session, other, b"weed.test\n", fmt=None, actor="c", now=now)

    result = await run(runtime, source, client, tmp_path)

    assert result.version is not None
    assert (result.version.number, result.version.note) == (1, "feed refreshed")
    assert [name for _, name, _ in result.version.sources] == ["feed"]
    snapshot = Snapshot(tmp_path / "1.snap")
    try:
        everything = (1 << len(snapshot.categories)) - 1
        assert decide(snapshot, "malware-one.test", "", enabled=everything).action is Action.BLOCK
        assert decide(snapshot, "weed.test", "", enabled=everything).action is Action.ALLOW
    finally:
        snapshot.close()
    async with runtime.sessions() as session:
        pending = await session.scalar(select(Entry).where(Entry.source_id == other.id))
        assert pending is not None
        assert pending.added_in is None  # the curator's draft is still theirs to publish

    # Nothing changed: no new version.
    server.etag = server.last_modified = None
    assert (await run(runtime, source, client, tmp_path)).version is None

    # The curator publishes everything; the feed's next change publishes just the feed again,
    # keeping the curated source as version 2 had it.
    async with transaction(runtime.sessions) as session:
        second = await publishing.publish(
            session, snapshot_path=lambda n: tmp_path / f"{n}.snap", actor="c", now=now
        )
        assert [name for _, name, _ in second.sources] == ["curated", "feed"]
        await sources.import_list(session, other, b"pills.test\n", fmt=None, actor="c", now=now)
    server.publish(V2, etag='"v2"', last_modified=DATE2)
    third = await run(runtime, source, client, tmp_path)
    assert third.version is not None
    assert [name for _, name, _ in third.version.sources] == ["curated", "feed"]
    snapshot = Snapshot(tmp_path / "3.snap")
    try:
        everything = (1 << len(snapshot.categories)) - 1
        assert decide(snapshot, "weed.test", "", enabled=everything).action is Action.BLOCK
        assert decide(snapshot, "pills.test", "", enabled=everything).action is Action.ALLOW
        assert decide(snapshot, "malware-one.test", "", enabled=everything).action is Action.ALLOW
    finally:
        snapshot.close()


async def test_due_sources_are_claimed_once(runtime: Runtime, clock: FrozenClock) -> None:
    now = clock.now()
    due = await feed(runtime, "https://lists.test/due.txt")
    async with transaction(runtime.sessions) as session:
        for name, fields in (
            ("disabled", {"enabled": False}),
            ("no-interval", {"refresh_interval_seconds": None}),
        ):
            await sources.create(
                session,
                SourceCreate.model_validate(
                    {
                        "name": name,
                        "category": "drugs",
                        "kind": "url",
                        "url": "https://lists.test/x.txt",
                        "refresh_interval_seconds": HOUR,
                        **fields,
                    }
                ),
                now=now,
            )
        assert await refresh.due(session, now) == [due.id]
    async with transaction(runtime.sessions) as session:
        assert await refresh.claim(session, due.id, now)
    async with transaction(runtime.sessions) as session:
        assert not await refresh.claim(session, due.id, now)  # another worker's turn: none
        assert await refresh.due(session, now) == []
    # A worker that died mid-refresh leaves it due again once the lease has passed.
    clock.advance(refresh.CLAIM_LEASE)
    async with transaction(runtime.sessions) as session:
        assert await refresh.due(session, clock.now()) == [due.id]
        assert await refresh.claim(session, due.id, clock.now())
