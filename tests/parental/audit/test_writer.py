"""The audit writer: rows of concurrent requests go in groups, each caller returns only once
its row is committed, a failed group fails every caller of it and keeps none of its rows, and
a caller that goes away still has its row written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from parental.audit import writer as writer_module
from parental.audit.models import AuditEvent
from parental.audit.service import Actor
from parental.audit.writer import AuditWriter
from parental.runtime import Runtime


@pytest.fixture
async def writers(runtime: Runtime) -> AsyncIterator[Callable[..., AuditWriter]]:
    """Writers for the test's database, closed when it ends."""
    made: list[AuditWriter] = []

    def make(**kwargs: Any) -> AuditWriter:
        made.append(AuditWriter(runtime.sessions, **kwargs))
        return made[-1]

    yield make
    for writer in made:
        await writer.close()


async def rows(runtime: Runtime) -> list[AuditEvent]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at)))


def entry(runtime: Runtime, n: int, child_id: uuid.UUID) -> dict[str, Any]:
    return {
        "at": runtime.clock.now(),
        "action": "location.viewed",
        "actor": Actor("guardian", f"g{n}"),
        "child_id": child_id,
        "subject_type": "child",
        "subject_id": child_id,
        "child_visible": True,
        "ip": "10.0.0.1",
        "details": {"n": n},
    }


async def test_each_caller_returns_with_its_row_committed_in_few_transactions(
    runtime: Runtime, writers: Callable[..., AuditWriter]
) -> None:
    writer = writers()
    child_id = uuid.uuid4()

    async def one(n: int) -> int:
        await writer.record(**entry(runtime, n, child_id))
        async with runtime.sessions() as session:  # another session sees it: committed
            found = await session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == f"g{n}")
            )
        return int(found or 0)

    assert await asyncio.gather(*(one(n) for n in range(50))) == [1] * 50
    written = await rows(runtime)
    assert sorted(r.details["n"] for r in written) == list(range(50))
    assert {(r.action, r.actor_type, r.child_visible, r.subject_id) for r in written} == {
        ("location.viewed", "guardian", True, str(child_id))
    }
    assert writer.groups < 50


async def test_groups_are_capped(runtime: Runtime, writers: Callable[..., AuditWriter]) -> None:
    writer = writers(max_group=4)
    await asyncio.gather(*(writer.record(**entry(runtime, n, uuid.uuid4())) for n in range(10)))
    assert writer.groups == 3  # 4 + 4 + 2: the first call starts the writing at once
    assert len(await rows(runtime)) == 10


async def test_a_failed_group_fails_each_caller_and_keeps_nothing(
    runtime: Runtime, writers: Callable[..., AuditWriter], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = writers()
    calls = 0
    real = writer_module._insert

    async def fail_once(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database gone")
        await real(connection, rows)

    monkeypatch.setattr(writer_module, "_insert", fail_once)
    results = await asyncio.gather(
        *(writer.record(**entry(runtime, n, uuid.uuid4())) for n in range(5)),
        return_exceptions=True,
    )
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await rows(runtime) == []
    await writer.record(**entry(runtime, 9, uuid.uuid4()))  # it recovers
    assert [r.details["n"] for r in await rows(runtime)] == [9]


async def test_a_caller_that_goes_away_still_has_its_row_written(
    runtime: Runtime, writers: Callable[..., AuditWriter]
) -> None:
    writer = writers()
    call = asyncio.create_task(writer.record(**entry(runtime, 1, uuid.uuid4())))
    await asyncio.sleep(0)  # handed over
    call.cancel()
    await writer.close()
    assert [r.details["n"] for r in await rows(runtime)] == [1]
