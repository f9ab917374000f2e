"""Redis stopped mid-run, then started again on the same port: the API keeps answering from
SQL and from the loaded filter snapshot, the sign-in routes refuse (503, Retry-After) rather
than count guesses per process, and everything that uses Redis works again without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from parental.kit.settings import Environment, KitSettings
from parental.runtime import Runtime
from tests.conftest import TEST_SECRET, sms_code
from tests.faults.conftest import RedisServer
from tests.parental.factories import FamilyWorld, build_family, carrier_headers, publish_lists

pytestmark = pytest.mark.faults

GUARDIAN = "+77011230001"
LISTS = {"drugs": ["||weed.test^"]}
RECOVERY_SECONDS = 5.0


@pytest.fixture
def kit_settings(database_url: str, tmp_path: Path, redis_server: RedisServer) -> KitSettings:
    """The test's database (SQLite or the shared PostgreSQL), and our own Redis to stop."""
    return KitSettings(
        environment=Environment.TEST,
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_server.url,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
    )


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> float:
    """Seconds until ``check`` holds; fails after ``RECOVERY_SECONDS``."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > RECOVERY_SECONDS:
            raise AssertionError(f"{what}: not back {RECOVERY_SECONDS} s after Redis was")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def fix(runtime: Runtime, minutes_ago: int, client_id: str) -> dict[str, Any]:
    at = runtime.clock.now() - timedelta(minutes=minutes_ago)
    return {
        "fixed_at": at.isoformat(),
        "latitude": 43.2389,
        "longitude": 76.8897,
        "accuracy_m": 8.5,
        "client_id": client_id,
    }


def shown(response: httpx.Response) -> datetime:
    """When the fix the guardian is shown was taken."""
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["location"]["fixed_at"])


def fix_taken(body: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(body["fixed_at"])


async def upload(client: httpx.AsyncClient, world: FamilyWorld, body: dict[str, Any]) -> int:
    response = await client.post(
        "/v1/device/locations", headers=world.device_headers, json={"fixes": [body]}
    )
    return response.status_code


async def latest(client: httpx.AsyncClient, world: FamilyWorld) -> httpx.Response:
    return await client.get(
        f"/v1/children/{world.child_id}/location", headers=world.guardian.headers
    )


async def check(client: httpx.AsyncClient, carrier: dict[str, str], url: str) -> str:
    response = await client.get("/v1/filter/check", headers=carrier, params={"url": url})
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["action"])


async def cached_keys(redis_server: RedisServer, pattern: str) -> list[bytes]:
    redis = Redis.from_url(redis_server.url)
    try:
        return list(await redis.keys(pattern))
    finally:
        await redis.aclose()


async def test_redis_stopped_and_started_again(
    client: httpx.AsyncClient, runtime: Runtime, redis_server: RedisServer
) -> None:
    carrier = await carrier_headers(runtime)
    world = await build_family(
        client, runtime, carrier, guardian_phone=GUARDIAN, line="+77071230001"
    )
    await publish_lists(runtime, LISTS)
    first, second, third = (fix(runtime, n, name) for n, name in ((3, "a"), (1, "b"), (0, "c")))
    assert await upload(client, world, first) == 200
    before = await latest(client, world)
    assert shown(before) == fix_taken(first)
    assert await cached_keys(redis_server, "parental:location:latest:*")  # read from Redis
    assert await check(client, carrier, "weed.test") == "block"
    notices = await runtime.notices.open("faults")

    redis_server.stop()

    # Reads fall back to SQL; writes that need no shared count go on.
    assert shown(await latest(client, world)) == fix_taken(first)
    assert await upload(client, world, second) == 200
    assert shown(await latest(client, world)) == fix_taken(second)
    # The filter answers from the snapshot it has loaded.
    assert await check(client, carrier, "weed.test") == "block"
    assert await check(client, carrier, "ok.test") == "allow"
    # Sign-in fails closed: no code is sent and no code is tried while guesses cannot be
    # counted across processes.
    sent = await client.post("/v1/auth/sign-in-codes", json={"phone": GUARDIAN, "locale": "ru"})
    assert sent.status_code == 503, sent.text
    assert sent.json()["error"] == "RateLimitUnavailable"
    assert int(sent.headers["Retry-After"]) > 0
    tried = await client.post("/v1/auth/tokens", json={"phone": GUARDIAN, "code": "000000"})
    assert tried.status_code == 503, tried.text
    assert tried.json()["error"] == "RateLimitUnavailable"

    assert len(runtime.subjects) == 1  # the carrier, remembered by the filter

    redis_server.start()  # empty: it kept nothing

    # The clients reconnect on their own: the first sign-in after the restart goes through
    # (a pooled connection Redis closed is retried on a new one, not answered 503).
    sent = await client.post("/v1/auth/sign-in-codes", json={"phone": GUARDIAN, "locale": "ru"})
    assert sent.status_code == 202, sent.text
    code = sms_code(runtime, GUARDIAN)
    tokens = await client.post("/v1/auth/tokens", json={"phone": GUARDIAN, "code": code})
    assert tokens.status_code == 201, tokens.text

    async def caches_again() -> bool:
        read = await latest(client, world)
        keys = await cached_keys(redis_server, "parental:location:latest:*")
        return read.status_code == 200 and bool(keys)

    await eventually(caches_again, "the latest-position cache")
    assert shown(await latest(client, world)) == fix_taken(second)
    assert await upload(client, world, third) == 200
    assert shown(await latest(client, world)) == fix_taken(third)
    assert await cached_keys(redis_server, "parental-limits*")  # counting in Redis again

    async def notices_arrive() -> bool:
        await runtime.notices.publish("faults", "hello")  # never raises: Redis is back
        return await notices.next(0.2) == "hello"

    # The subscription made before the outage hears notices again: its reader reconnects
    # and subscribes anew.
    await eventually(notices_arrive, "pub/sub notices")
    await notices.close()
    # The filter forgets the callers and profiles it remembered: a change another process
    # made during the outage was told to nobody.
    assert runtime.notices.gaps >= 1

    async def subjects_forgotten() -> bool:
        return len(runtime.subjects) == 0

    await eventually(subjects_forgotten, "the filter's remembered subjects")
