"""``kit.db.after_commit``: an action runs once the transaction has committed, never after a
rollback, and a savepoint's release is not the commit."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from parental.kit.db import after_commit, transaction
from parental.runtime import Runtime


async def test_an_action_runs_after_the_commit_only(runtime: Runtime) -> None:
    ran: list[str] = []
    async with transaction(runtime.sessions) as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("committed"))
        async with session.begin_nested():
            after_commit(session, lambda: ran.append("savepoint's, at the commit"))
        assert ran == []  # a savepoint released: the transaction goes on
    assert ran == ["committed", "savepoint's, at the commit"]

    async def rolled_back() -> None:
        async with transaction(runtime.sessions) as session:
            after_commit(session, lambda: ran.append("rolled back"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await rolled_back()
    async with transaction(runtime.sessions) as session:
        await session.execute(text("SELECT 1"))  # the same factory's next transaction
    assert ran == ["committed", "savepoint's, at the commit"]


async def test_a_failing_action_does_not_fail_the_commit_or_the_others(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("boom")

    async with transaction(runtime.sessions) as session:
        after_commit(session, broken)
        after_commit(session, lambda: ran.append("next"))
    assert ran == ["next"]
    assert "an action after a commit failed" in caplog.text
