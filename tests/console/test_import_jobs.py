"""Imports started from the console run in the background: the request answers at once, the
source page shows the running import and its progress (the part its script polls), then the
report; a second import of the same source is refused while one runs; an import whose process
died shows as interrupted; the upload takes lists as large as the admin API's import route."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from filters.curation import jobs, sources
from filters.curation.models import Entry, ImportJob, Source
from filters.curation.progress import Phase
from parental.audit.models import AuditEvent
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.filters.curation.listserver import ListServer, list_server

LINES = 3000


@pytest.fixture
def parental_settings() -> ParentalSettings:
    """The list server runs on 127.0.0.1, which sources may reach only when allowed."""
    return ParentalSettings(curation_source_private_networks=["127.0.0.0/8"])  # type: ignore[list-item]


@pytest.fixture
def server() -> Iterator[ListServer]:
    with list_server() as running:
        yield running


def a_list(count: int = LINES) -> bytes:
    return "".join(f"site-{n}.test\n" for n in range(count)).encode()


async def add_source(client: httpx.AsyncClient, csrf: str, **fields: str) -> str:
    """A new source's console path (``/console/sources/<id>``)."""
    added = await client.post(
        "/console/sources",
        data={"csrf": csrf, "name": "Uploads", "category": "adult", "format": "", **fields},
    )
    assert added.status_code == 303, added.text
    return added.headers["location"].split("?")[0]


async def upload(
    client: httpx.AsyncClient, path: str, csrf: str, data: bytes, **fields: str
) -> httpx.Response:
    return await client.post(
        f"{path}/import",
        data={"csrf": csrf, **fields},
        files={"list": ("list.txt", data, "text/plain")},
    )


def job_part(page: str) -> str:
    """The import's part of the source page, as its script polls it."""
    found = re.search(r'<section id="import-job".*?</section>', page, re.S)
    assert found is not None, page
    return found.group()


def poll_url(page: str) -> str | None:
    found = re.search(r'data-poll="([^"]+)"', job_part(page))
    return found.group(1) if found else None


class Gate:
    """Holds every import in its parsing phase until opened (the parser runs in a thread)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()
        read_list = sources.read_list

        def held(*args: Any, **kwargs: Any) -> Any:
            self.reached.set()
            assert self.opened.wait(10), "the gate was never opened"
            return read_list(*args, **kwargs)

        monkeypatch.setattr(sources, "read_list", held)

    async def reach(self) -> bool:
        """Whether the import reached the parser (its task runs on this loop meanwhile)."""
        return await asyncio.to_thread(self.reached.wait, 5)

    def open(self) -> None:
        self.opened.set()


async def test_an_upload_runs_in_the_background_with_its_progress_then_its_report(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    console: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = await add_source(client, console)
    gate = Gate(monkeypatch)
    started = await upload(client, path, console, a_list() + b"not a name\n", format="domains")
    assert started.status_code == 303, started.text
    assert started.headers["location"].endswith("notice=import_started")
    try:
        source_page = (await client.get(started.headers["location"])).text
        poll = poll_url(source_page)
        assert poll is not None
        assert 'role="status"' in job_part(source_page)
        assert "/static/sources.js" in source_page
        assert await gate.reach()
        parsing = (await client.get(poll)).text
        assert f"Reading the list ({LINES + 1} lines)" in parsing
        assert "<progress" in parsing
        assert 'for="job-progress"' in parsing
        assert ">Refresh</a>" in parsing  # without JavaScript, a link to load the page again

        # A second import of the same source is refused while this one runs.
        clock.advance(timedelta(seconds=1))
        second = await upload(client, path, console, a_list(10))
        assert second.status_code == 409
        assert "An import of this source is already running" in second.text
    finally:
        gate.open()
    await runtime.imports.wait()

    done = job_part((await client.get(poll)).text)
    assert "data-poll" not in done
    assert f"Import done: {LINES} added, 0 removed." in done
    assert f"{LINES + 1} lines read, {LINES} accepted" in done
    assert "not a name" in done  # the rejected line, with its reason
    async with runtime.sessions() as session:
        entries = await session.scalar(select(Entry.id).limit(1))
        audited = list(await session.scalars(select(AuditEvent.action)))
        job = (await session.scalars(select(ImportJob))).one()
    assert entries is not None
    assert audited.count("curation.source_imported") == 1
    assert (job.phase, job.running_source_id, job.lines_read, job.added) == (
        "done",
        None,
        LINES + 1,
        LINES,
    )
    assert job.finished_at is not None
    assert job.import_id is not None

    # With the first one done, the source takes another import.
    clock.advance(timedelta(seconds=1))
    assert (await upload(client, path, console, a_list(10))).status_code == 303
    await runtime.imports.wait()
    assert f"Import done: 0 added, {LINES - 10} removed." in (await client.get(path)).text


async def test_a_list_that_cannot_be_read_ends_the_import_as_failed(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    path = await add_source(client, console)

    assert (await upload(client, path, console, b"!!!\n")).status_code == 303
    await runtime.imports.wait()

    part = job_part((await client.get(path)).text)
    assert "Import failed." in part
    assert 'role="alert"' in part
    assert "could not be read in any known format" in part
    assert "No imports yet." in (await client.get(path)).text


async def test_a_refresh_from_the_console_runs_in_the_background(
    client: httpx.AsyncClient, runtime: Runtime, console: str, server: ListServer
) -> None:
    server.publish(["0.0.0.0 one.test", "0.0.0.0 two.test"], etag='"1"', last_modified="x")
    path = await add_source(client, console, url=server.url, refresh_hours="1")

    started = await client.post(f"{path}/refresh", data={"csrf": console})
    assert started.status_code == 303, started.text
    await runtime.imports.wait()

    part = job_part((await client.get(path)).text)
    assert "Refresh done (updated): 2 added, 0 removed." in part
    assert "Format hosts: 2 lines read" in part
    async with runtime.sessions() as session:
        audited = list(await session.scalars(select(AuditEvent.action)))
    assert "curation.source_refreshed" in audited


async def test_an_import_whose_process_died_shows_as_interrupted(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, console: str
) -> None:
    path = await add_source(client, console)
    source_id = uuid.UUID(path.rsplit("/", 1)[1])
    async with transaction(runtime.sessions) as session:
        source = await session.get(Source, source_id)
        assert source is not None
        dead = await jobs.queue(
            session, source, kind="upload", actor="staff:x", tasks=runtime.imports, now=clock.now()
        )
        dead.runner, dead.phase = "gone-process", Phase.WRITING.value
        dead.heartbeat_at = clock.now() - jobs.STALE_AFTER - timedelta(seconds=1)

    page = (await client.get(path)).text
    part = job_part(page)
    assert "Import failed." in part
    assert jobs.INTERRUPTED in part
    assert "data-poll" not in part
    clock.advance(timedelta(seconds=1))
    assert (await upload(client, path, console, a_list(10))).status_code == 303
    await runtime.imports.wait()
    assert "Import done: 10 added" in (await client.get(path)).text


async def test_the_upload_takes_lists_over_the_apps_body_limit(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    path = await add_source(client, console)
    big = b"# " + b"x" * (runtime.settings.max_body_bytes + 1000) + b"\nbig.test\n"

    uploaded = await upload(client, path, console, big)
    elsewhere = await client.post(
        f"{path}", data={"csrf": console}, files={"list": ("list.txt", big, "text/plain")}
    )

    assert uploaded.status_code == 303, uploaded.text
    assert elsewhere.status_code == 413  # other console forms keep the app's limit
    await runtime.imports.wait()
    assert "Import done: 1 added" in (await client.get(path)).text


async def test_an_import_cancelled_at_shutdown_records_itself_as_interrupted(
    client: httpx.AsyncClient, runtime: Runtime, console: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = await add_source(client, console)
    gate = Gate(monkeypatch)
    assert (await upload(client, path, console, a_list(10))).status_code == 303
    try:
        assert await gate.reach()
        await runtime.imports.close()  # what the runtime does first when the process stops
    finally:
        gate.open()

    async with runtime.sessions() as session:
        job = (await session.scalars(select(ImportJob))).one()
    assert (job.phase, job.error, job.running_source_id) == ("failed", jobs.INTERRUPTED, None)
