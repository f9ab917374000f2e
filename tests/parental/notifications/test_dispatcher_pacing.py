"""How the dispatcher paces its sends, against the local FCM server with the real SDK: a 429
pauses every dispatcher of the project until its Retry-After (in this process, and through the
kit cache in every other), and retries are spread out by the backoff's random half."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications import pause
from parental.notifications.dispatcher import backoff, dispatch_round
from parental.notifications.models import PushOutboxRow
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import START
from tests.fakes import fcm as answers
from tests.fakes.fcm import FakeFcm
from tests.parental.notifications.conftest import (
    add_phone,
    enqueue,
    fcm_token,
    fixed_token_sender,
    guardian,
    push_settings,
)

pytestmark = pytest.mark.usefixtures("push_sender")


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return push_settings(fcm)


async def quota_hit(client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm) -> str:
    """A first guardian's row answered 429 with Retry-After 120 at START; a second guardian's
    phone is registered, and that guardian's account id returned."""
    first, second = await guardian(client, runtime, 1), await guardian(client, runtime, 2)
    throttled = fcm_token("throttled")
    await add_phone(client, first, throttled)
    await add_phone(client, second, fcm_token("other"))
    fcm.script(throttled, answers.quota_exceeded(retry_after=120))
    await enqueue(runtime, first.account_id, "first")
    assert (await dispatch_round(runtime)).retried == 1
    return second.account_id


async def test_a_429_holds_every_row_until_its_retry_after(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    second = await quota_hit(client, runtime, fcm)
    clock.advance(timedelta(seconds=30))
    await enqueue(runtime, second, "second")  # another guardian's: due at once

    clock.advance(timedelta(seconds=89))  # 119 s after the 429
    assert (await dispatch_round(runtime)).claimed == 0
    assert fcm.to(fcm_token("other")) == []

    clock.advance(timedelta(seconds=1))
    report = await dispatch_round(runtime)
    assert (report.claimed, report.sent) == (2, 2)
    assert len(fcm.to(fcm_token("other"))) == 1
    assert len(fcm.received) == 3


async def test_the_pause_reaches_a_dispatcher_of_another_process_through_the_cache(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    second = await quota_hit(client, runtime, fcm)
    await enqueue(runtime, second, "second")
    # Another process: its own sender, nothing in memory, the same cache (Redis when set).
    runtime.push = fixed_token_sender(runtime.settings)
    assert runtime.push.paused_until is None

    clock.advance(timedelta(seconds=119))
    assert (await dispatch_round(runtime)).claimed == 0
    clock.advance(timedelta(seconds=1))
    assert (await dispatch_round(runtime)).sent == 2


async def test_the_pause_holds_in_process_when_the_cache_fails(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    fcm: FakeFcm,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(runtime.cache, "get", down)
    monkeypatch.setattr(runtime.cache, "set_newer", down)
    second = await quota_hit(client, runtime, fcm)
    await enqueue(runtime, second, "second")

    clock.advance(timedelta(seconds=119))
    assert (await dispatch_round(runtime)).claimed == 0
    clock.advance(timedelta(seconds=1))
    assert (await dispatch_round(runtime)).sent == 2


async def test_a_shorter_pause_written_later_never_cuts_a_longer_one(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    second = await quota_hit(client, runtime, fcm)  # paused until START + 120
    await enqueue(runtime, second, "second")
    # Another process, whose round began before that 429, was told to wait 5 s only.
    runtime.push = fixed_token_sender(runtime.settings)
    await pause.pause(runtime, START + timedelta(seconds=5), now=START)

    clock.advance(timedelta(seconds=60))
    assert (await dispatch_round(runtime)).claimed == 0
    clock.advance(timedelta(seconds=60))
    assert (await dispatch_round(runtime)).sent == 2


async def next_attempts(runtime: Runtime) -> list[float]:
    async with transaction(runtime.sessions) as session:
        found = await session.scalars(select(PushOutboxRow.next_attempt_at))
        return sorted((at - START).total_seconds() for at in found)


async def test_rows_failing_together_are_tried_again_at_spread_out_times(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    phone = fcm_token("phone")
    await add_phone(client, parent, phone)
    fcm.script(phone, *[answers.unavailable()] * 8)
    for n in range(8):
        await enqueue(runtime, parent.account_id, f"k{n}")

    assert (await dispatch_round(runtime, rng=random.Random(11))).retried == 8

    delays = await next_attempts(runtime)
    assert all(15 <= delay <= 30 for delay in delays)  # base 30 s: half fixed, half random
    assert len(set(delays)) == 8  # none retries together with another
    assert delays[-1] - delays[0] >= 5  # spread over the random half, not bunched


def test_the_backoff_depends_on_the_random_draw() -> None:
    drawn = {backoff(3, base=10, cap=3600, rng=random.Random(seed)) for seed in range(20)}
    assert all(20 <= delay <= 40 for delay in drawn)
    assert len(drawn) == 20
    assert max(drawn) - min(drawn) >= 10
