"""A commit that wrote notifications tells the dispatchers and the recipients' inbox streams;
a rollback, a close without commit, or a savepoint alone tells nobody."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime

import httpx
import pytest

from parental.kit.db import transaction
from parental.kit.notices import LocalNotices, Subscription
from parental.notifications import live, outbox
from parental.notifications.outbox import PushMessage
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import run_forever
from tests.fakes.fcm import FakeFcm
from tests.parental.notifications.conftest import (
    add_phone,
    enqueue,
    fcm_token,
    guardian,
    push_settings,
)

# Long enough that only the wake-up can explain a send within a few seconds.
POLLING_SECONDS = 600.0


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return push_settings(fcm).model_copy(update={"push_interval_seconds": POLLING_SECONDS})


def notice(account_id: str, key: str) -> outbox.Notice:
    return outbox.Notice(key, uuid.UUID(account_id), "test", PushMessage(title="Hi", body="You"))


@pytest.mark.usefixtures("push_sender")
async def test_a_commit_wakes_a_dispatcher_polling_rarely(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("parent"))
    # Sent by the loop's first round, which comes after it subscribed: from then on a commit
    # can only reach the fake server within the wait below by waking the loop.
    assert await enqueue(runtime, parent.account_id, "before-the-loop")
    loop = asyncio.create_task(
        run_forever(runtime, interval_seconds=POLLING_SECONDS, timer_seconds=POLLING_SECONDS)
    )
    try:
        assert await asyncio.to_thread(fcm.wait_for, 1, 10.0)
        assert await enqueue(runtime, parent.account_id, "while-it-waits")
        assert await asyncio.to_thread(fcm.wait_for, 2, 5.0)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert len(fcm.received) == 2


async def test_a_commit_tells_each_recipients_inbox_its_new_rows(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    first, second = await guardian(client, runtime, 1), await guardian(client, runtime, 2)
    heard = {g.account_id: await inbox_of(runtime, g.account_id) for g in (first, second)}
    push_due = await runtime.notices.open(live.PUSH_DUE)
    try:
        async with transaction(runtime.sessions) as session:
            notices = [notice(first.account_id, "a"), notice(first.account_id, "b")]
            notices.append(notice(second.account_id, "c"))
            assert await outbox.enqueue_many(session, notices, now=now(runtime)) == 3
            # A duplicate adds no row, so nothing is told about it.
            assert await outbox.enqueue_many(session, [notices[0]], now=now(runtime)) == 0
        assert await push_due.next(5) is not None
        to_first = await heard[first.account_id].next(5)
        to_second = await heard[second.account_id].next(5)
    finally:
        await close_all(push_due, *heard.values())
    assert to_first is not None
    assert to_second is not None
    assert len(live.parse_ids(to_first)) == 2
    assert len(live.parse_ids(to_second)) == 1
    assert set(live.parse_ids(to_first)).isdisjoint(live.parse_ids(to_second))


async def test_a_rollback_or_a_close_without_commit_tells_nobody(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    parent = await guardian(client, runtime)
    inbox = await inbox_of(runtime, parent.account_id)
    push_due = await runtime.notices.open(live.PUSH_DUE)
    try:
        with pytest.raises(RuntimeError):
            await write_then_fail(runtime, parent.account_id)
        async with runtime.sessions() as session:
            await outbox.enqueue_many(session, [notice(parent.account_id, "y")], now=now(runtime))
        # The same session goes on to commit something else: only that is told.
        async with runtime.sessions() as session:
            await outbox.enqueue_many(session, [notice(parent.account_id, "z")], now=now(runtime))
            await session.rollback()
            await outbox.enqueue_many(session, [notice(parent.account_id, "w")], now=now(runtime))
            await session.commit()
        told = await inbox.next(5)
        assert told is not None
        assert len(live.parse_ids(told)) == 1
        assert await inbox.next(0.5) is None
        if isinstance(runtime.notices, LocalNotices):
            # Redis channels are shared by every process on the server (other test runs too).
            assert await push_due.next(0.1) is not None  # the commit's
            assert await push_due.next(0.5) is None
    finally:
        await close_all(push_due, inbox)


async def test_a_savepoint_tells_nobody_until_the_transaction_commits(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    parent = await guardian(client, runtime)
    inbox = await inbox_of(runtime, parent.account_id)
    try:
        async with transaction(runtime.sessions) as session:
            async with session.begin_nested():
                await outbox.enqueue_many(
                    session, [notice(parent.account_id, "s")], now=now(runtime)
                )
            assert await inbox.next(0.5) is None
        assert await inbox.next(5) is not None
    finally:
        await inbox.close()


class Unreachable(LocalNotices):
    async def open(self, channel: str) -> Subscription:
        raise ConnectionError("redis is down")


async def test_a_wakeup_that_cannot_subscribe_falls_back_to_the_interval() -> None:
    wakeup = live.PushWakeup(Unreachable())
    assert not await wakeup.open()
    waited = asyncio.create_task(wakeup.wait(0.05))
    await asyncio.wait_for(waited, timeout=5)  # slept the interval, did not raise
    await wakeup.close()


async def test_notices_that_come_together_wake_once() -> None:
    notices = LocalNotices()
    wakeup = live.PushWakeup(notices)
    assert await wakeup.open()
    for _ in range(3):
        await notices.publish(live.PUSH_DUE, "1")
    await asyncio.wait_for(wakeup.wait(POLLING_SECONDS), timeout=5)
    waited = asyncio.create_task(wakeup.wait(POLLING_SECONDS))
    await asyncio.sleep(0.2)
    assert not waited.done()  # the three were taken by the first wait
    await notices.publish(live.PUSH_DUE, "1")
    await asyncio.wait_for(waited, timeout=5)
    await wakeup.close()
    assert len(notices) == 0


def now(runtime: Runtime) -> datetime:
    return runtime.clock.now()


async def write_then_fail(runtime: Runtime, account_id: str) -> None:
    async with transaction(runtime.sessions) as session:
        await outbox.enqueue_many(session, [notice(account_id, "x")], now=now(runtime))
        raise RuntimeError("the event could not be recorded")


async def inbox_of(runtime: Runtime, account_id: str) -> Subscription:
    return await runtime.notices.open(live.inbox_channel(uuid.UUID(account_id)))


async def close_all(*subscriptions: Subscription) -> None:
    for subscription in subscriptions:
        await subscription.close()
