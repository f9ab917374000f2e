"""The audit log cannot be rewritten, not even with SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from parental.audit import service as audit
from parental.audit.models import AuditEvent
from parental.kit.db import transaction
from parental.runtime import Runtime


async def test_rows_cannot_be_updated_but_can_be_purged(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        event = await audit.record(
            session, at=runtime.clock.now(), action="test.event", actor=audit.Actor("system")
        )
    with pytest.raises(DBAPIError, match="append-only"):
        async with transaction(runtime.sessions) as session:
            await session.execute(
                update(AuditEvent).where(AuditEvent.id == event.id).values(action="forged")
            )
    async with runtime.sessions() as session:
        assert await session.scalar(select(AuditEvent.action)) == "test.event"
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.id == event.id))
    async with runtime.sessions() as session:
        assert await session.scalar(select(AuditEvent.id)) is None
