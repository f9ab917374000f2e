"""Dispatchers at once, and a dispatcher killed while FCM has its batch: nothing is lost and
nothing is sent twice beyond the batch that was in flight."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.settings import KitSettings
from parental.notifications.dispatcher import dispatch_round
from parental.notifications.models import PushOutboxRow
from parental.notifications.outbox import PushMessage
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.sms.sender import LogSmsSender
from tests.conftest import open_runtime
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


async def states(runtime: Runtime) -> Counter[str]:
    async with transaction(runtime.sessions) as session:
        return Counter((await session.scalars(select(PushOutboxRow.state))).all())


def numbers(fcm: FakeFcm) -> Counter[str]:
    return Counter(r.body["message"]["data"]["n"] for r in fcm.received)


async def test_two_dispatchers_never_send_one_row_twice(
    client: httpx.AsyncClient,
    runtime: Runtime,
    kit_settings: KitSettings,
    parental_settings: ParentalSettings,
    clock: FrozenClock,
    fcm: FakeFcm,
) -> None:
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("phone"))
    for n in range(60):
        message = PushMessage(title="t", body="b", data={"n": str(n)})
        await enqueue(runtime, parent.account_id, f"k{n}", message)
    settings = parental_settings.model_copy(update={"push_batch_size": 7})
    runtime.settings = settings
    async with open_runtime(kit_settings, settings, clock, LogSmsSender()) as other:
        other.push = fixed_token_sender(settings)
        for _ in range(10):
            await asyncio.gather(dispatch_round(runtime), dispatch_round(other))

    assert await states(runtime) == Counter({"sent": 60})
    assert numbers(fcm) == Counter({str(n): 1 for n in range(60)})


async def test_a_dispatcher_killed_mid_batch_loses_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("phone"))
    for n in range(5):
        message = PushMessage(title="t", body="b", data={"n": str(n)})
        await enqueue(runtime, parent.account_id, f"k{n}", message)
    runtime.settings = runtime.settings.model_copy(update={"push_batch_size": 3})

    fcm.hold()  # FCM takes the batch, and the dispatcher dies before it hears back
    round_ = asyncio.create_task(dispatch_round(runtime))
    assert await asyncio.to_thread(fcm.wait_for, 3)
    round_.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await round_
    fcm.release()

    # The batch stays leased: the next rounds send the other rows only.
    assert (await dispatch_round(runtime)).sent == 2
    assert (await dispatch_round(runtime)).claimed == 0
    clock.advance(timedelta(seconds=runtime.settings.push_lease_seconds))
    assert (await dispatch_round(runtime)).sent == 3

    assert await states(runtime) == Counter({"sent": 5})
    sent = numbers(fcm)
    assert set(sent) == {str(n) for n in range(5)}
    assert sorted(sent.values()) == [1, 1, 2, 2, 2]  # only the batch in flight went twice
