"""Settling a round's rows at once: each outcome lands on its own row, and only on rows still
leased to the dispatcher that settles them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications import outbox
from parental.notifications.models import PushOutboxRow
from parental.notifications.outbox import Notice, PushMessage, Settlement, State
from parental.runtime import Runtime

LEASE = timedelta(seconds=120)


async def add(runtime: Runtime, count: int) -> None:
    notices = [
        Notice(f"k{n}", uuid.uuid4(), "test", PushMessage(title="t", body=str(n)))
        for n in range(count)
    ]
    async with transaction(runtime.sessions) as session:
        await outbox.enqueue_many(session, notices, now=runtime.clock.now())


async def claim(runtime: Runtime, worker: str) -> list[outbox.Claimed]:
    async with transaction(runtime.sessions) as session:
        return await outbox.claim(
            session, now=runtime.clock.now(), limit=10, worker=worker, lease=LEASE
        )


async def by_key(runtime: Runtime) -> dict[str, PushOutboxRow]:
    async with transaction(runtime.sessions) as session:
        rows = (await session.scalars(select(PushOutboxRow))).all()
    return {row.dedup_key: row for row in rows}


async def test_each_outcome_lands_on_its_own_row(runtime: Runtime, clock: FrozenClock) -> None:
    await add(runtime, 3)
    rows = {row.dedup_key: row for row in await claim(runtime, "a")}
    now = clock.now()
    retry_at = now + timedelta(minutes=5)
    outcomes = [
        (rows["k0"].id, Settlement(State.SENT, ["phone-1"])),
        (rows["k1"].id, Settlement(State.PENDING, ["phone-2"], "UnavailableError 503", retry_at)),
        (rows["k2"].id, Settlement(State.FAILED, [], "InvalidArgumentError 400")),
    ]

    async with transaction(runtime.sessions) as session:
        ours = await outbox.settle_many(session, outcomes, worker="a", now=now)

    assert ours == {row.id for row in rows.values()}
    after = await by_key(runtime)
    sent, pending, failed = after["k0"], after["k1"], after["k2"]
    assert (sent.state, sent.delivered_to, sent.sent_at, sent.last_error) == (
        "sent",
        ["phone-1"],
        now,
        None,
    )
    assert (pending.state, pending.delivered_to, pending.next_attempt_at, pending.sent_at) == (
        "pending",
        ["phone-2"],
        retry_at,
        None,
    )
    assert pending.last_error == "UnavailableError 503"
    assert (failed.state, failed.last_error, failed.sent_at) == (
        "failed",
        "InvalidArgumentError 400",
        None,
    )
    for row in after.values():
        assert (row.attempts, row.leased_by, row.lease_until) == (1, None, None)


async def test_rows_taken_over_after_their_lease_are_left_alone(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await add(runtime, 2)
    first = await claim(runtime, "a")
    clock.advance(LEASE)  # "a" is too slow: its lease runs out and "b" takes both rows
    assert {row.id for row in await claim(runtime, "b")} == {row.id for row in first}
    now = clock.now()

    async with transaction(runtime.sessions) as session:
        late = [(row.id, Settlement(State.FAILED, [], "late")) for row in first]
        assert await outbox.settle_many(session, late, worker="a", now=now) == set()
        assert not await outbox.settle(session, first[0], late[0][1], worker="a", now=now)

    untouched = await by_key(runtime)
    assert {(row.state, row.leased_by, row.attempts) for row in untouched.values()} == {
        ("pending", "b", 0)
    }

    async with transaction(runtime.sessions) as session:
        done = [(row.id, Settlement(State.SENT, ["phone"])) for row in first]
        assert len(await outbox.settle_many(session, done, worker="b", now=now)) == 2
        # Settled rows are no one's any more: settling them again changes nothing.
        assert await outbox.settle_many(session, late, worker="b", now=now) == set()
    assert {row.state for row in (await by_key(runtime)).values()} == {"sent"}
