"""What happens once fixes are stored, through the API: the listeners (geofences, alarms)
hear the new ones and their events follow the commit, and guardians watching the live stream
see them, in this process or, through Redis, in another."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncSession

import parental.locations
from parental.app import create_app
from parental.kit.clock import FrozenClock
from parental.kit.events import Event
from parental.kit.settings import KitSettings
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.sms.sender import LogSmsSender
from telemetry.locations.fix import Fix
from tests.conftest import REDIS_URL, open_runtime
from tests.parental.factories import FamilyWorld
from tests.parental.test_locations import child_audit, fix, stored_count, upload


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(location_stream_heartbeat_seconds=0.2)


# --- what reacts to new fixes -----------------------------------------------------------


class Moved(Event):
    child_id: uuid.UUID
    fixed_at: list[datetime]


async def test_listeners_hear_new_fixes_and_their_events_follow_the_commit(
    runtime: Runtime, clock: FrozenClock, family: FamilyWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[Fix]] = []

    async def listener(
        session: AsyncSession, child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime
    ) -> Sequence[Event]:
        calls.append(list(fixes))
        return [Moved(occurred_at=now, child_id=child_id, fixed_at=[f.fixed_at for f in fixes])]

    committed_when_heard: list[int] = []

    async def hear(event: Moved) -> None:
        committed_when_heard.append(await stored_count(runtime))

    runtime.bus.subscribe(Moved, hear)
    app = create_app(runtime)
    # The route and the upload's fast path both ask fix_listeners (the second upload and the
    # third take the fast path, by the device's grant).
    monkeypatch.setattr(parental.locations, "fix_listeners", lambda _runtime, **_: [listener])
    now = clock.now()
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as api,
    ):
        await upload(api, family, fix(now - timedelta(minutes=2)))
        response = await upload(
            api,
            family,
            fix(now),
            fix(now - timedelta(minutes=2)),
            fix(now - timedelta(minutes=4)),
            fix(now - timedelta(minutes=3), latitude=-100),
        )
        assert response.json()["accepted"] == 2
        await upload(api, family, fix(now))

    assert [[f.fixed_at for f in call] for call in calls] == [
        [now - timedelta(minutes=2)],
        [now - timedelta(minutes=4), now],
    ]
    assert all(f.child_id == uuid.UUID(family.child_id) for call in calls for f in call)
    assert committed_when_heard == [1, 3]


# --- the live stream --------------------------------------------------------------------


@asynccontextmanager
async def served(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a real HTTP server on a loopback port, and a client for it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), lifespan="on", log_config=None))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn has no event for it
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        server.should_exit = True
        await task
        sock.close()


async def next_line(lines: AsyncIterator[str], wanted: str) -> list[str]:
    """The lines up to the first that starts with ``wanted``."""
    read: list[str] = []

    async def scan() -> None:
        async for line in lines:
            read.append(line)
            if line.startswith(wanted):
                return

    await asyncio.wait_for(scan(), timeout=5)
    return read


async def watch_and_upload(
    watcher: httpx.AsyncClient,
    uploader: httpx.AsyncClient,
    family: FamilyWorld,
    at: datetime,
) -> list[str]:
    """Open the stream on ``watcher``, upload a fix through ``uploader``; the stream's lines up
    to the fix's data, after a heartbeat."""
    url = f"/v1/children/{family.child_id}/locations/stream"
    async with watcher.stream("GET", url, headers=family.guardian.headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        await next_line(lines, ": open")
        beat = await next_line(lines, ": ping")  # 0.2 s heartbeats in these tests
        assert (await upload(uploader, family, fix(at, client_id="x"))).status_code == 200
        return beat + await next_line(lines, "data:")


async def test_the_stream_sends_new_fixes_as_they_arrive(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    async with served(runtime) as http:
        lines = await watch_and_upload(http, client, family, clock.now())
    assert "event: location" in lines
    data = [line for line in lines if line.startswith("data:")]
    assert len(data) == 1
    assert data[0].removeprefix("data: ").startswith('{"id":')
    assert f'"device_id":"{family.device_id}"' in data[0]
    assert [e["action"] for e in await child_audit(client, family)] == ["location.stream_opened"]


@pytest.mark.skipif(not REDIS_URL, reason="streams reach other processes through Redis only")
async def test_the_stream_hears_fixes_stored_by_another_process(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    kit_settings: KitSettings,
    parental_settings: ParentalSettings,
) -> None:
    async with (
        open_runtime(kit_settings, parental_settings, clock, LogSmsSender()) as elsewhere,
        served(elsewhere) as http,
    ):
        assert elsewhere.notices is not runtime.notices
        lines = await watch_and_upload(http, client, family, clock.now())
    assert "event: location" in lines


async def test_a_stream_ends_after_its_lifetime(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"location_stream_max_seconds": 0.5})
    response = await client.get(
        f"/v1/children/{family.child_id}/locations/stream", headers=family.guardian.headers
    )
    assert response.status_code == 200
    assert response.text.startswith(": open\nretry: 5000\n\n")
    assert ": ping\n\n" in response.text
