"""FCM down for minutes (first answering 503, then not even taking connections): the
notifications wait in the outbox, and once FCM is back each phone gets each one exactly once.

The dispatcher sends with the real firebase-admin SDK to the fake FCM server; time is moved
on the injected clock through the dispatcher's own backoff, so minutes pass in a moment.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications.dispatcher import dispatch_round
from parental.notifications.models import PushOutboxRow
from parental.notifications.outbox import PushMessage
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.fakes import fcm as answers
from tests.fakes.fcm import Answer, FakeFcm
from tests.faults.conftest import free_port
from tests.parental.notifications.conftest import (
    PROJECT,
    add_phone,
    enqueue,
    fcm_token,
    fixed_token_sender,
    guardian,
)

pytestmark = pytest.mark.faults

NOTIFICATIONS = 5
DOWN_FOR = timedelta(minutes=6)


class FlakyFcm(FakeFcm):
    """The fake FCM server, which can answer every message 503 (``down``) for a while."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.turned_away = 0

    def _answer(self, project: str, headers: dict[str, str], body: dict[str, Any]) -> Answer:
        if self.down:
            with self._lock:
                self.turned_away += 1
            return answers.unavailable()
        return super()._answer(project, headers, body)


@pytest.fixture
def fcm(monkeypatch: pytest.MonkeyPatch) -> FlakyFcm:
    """``FlakyFcm`` on a port of its own, which the test may close and open again."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return FlakyFcm()


@pytest.fixture
def fcm_port() -> int:
    return free_port()


@pytest.fixture
def parental_settings(fcm_port: int) -> ParentalSettings:
    """``push_settings`` (no retries inside the SDK: the dispatcher's schedule is under test),
    for the port the fake is started on and stopped on."""
    return ParentalSettings(
        fcm_project_id=PROJECT,
        fcm_url=f"http://127.0.0.1:{fcm_port}",
        fcm_http_retries=0,
        fcm_http_backoff_factor=0,
    )


async def outbox_rows(runtime: Runtime) -> list[PushOutboxRow]:
    async with transaction(runtime.sessions) as session:
        return list(await session.scalars(select(PushOutboxRow)))


async def wait_out_backoff(runtime: Runtime, clock: FrozenClock) -> datetime:
    """Move the clock to the first retry that is due, and return it."""
    due = min(row.next_attempt_at for row in await outbox_rows(runtime) if row.state == "pending")
    clock.set(max(due, clock.now()))
    return due


async def test_fcm_down_for_minutes_then_back(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FlakyFcm, fcm_port: int
) -> None:
    runtime.push = fixed_token_sender(runtime.settings)  # no Google token endpoint
    parent = await guardian(client, runtime)
    phones = [fcm_token("phone"), fcm_token("tablet")]
    for phone in phones:
        await add_phone(client, parent, phone)
    for n in range(NOTIFICATIONS):
        message = PushMessage(title=f"Notice {n}", body="body", ttl_seconds=3600)
        await enqueue(runtime, parent.account_id, f"notice:{n}", message)
    went_down = clock.now()

    # FCM answers, but only 503.
    with fcm.running(fcm_port):
        fcm.down = True
        report = await dispatch_round(runtime)
        assert (report.claimed, report.retried, report.sent) == (NOTIFICATIONS, NOTIFICATIONS, 0)
        assert fcm.turned_away == NOTIFICATIONS * len(phones)

    # FCM takes no connection at all, for minutes: every retry finds it so, none gives up.
    while clock.now() - went_down < DOWN_FOR:
        await wait_out_backoff(runtime, clock)
        report = await dispatch_round(runtime)
        assert (report.sent, report.failed) == (0, 0)
        assert report.retried == report.claimed
    rows = await outbox_rows(runtime)
    assert {row.state for row in rows} == {"pending"}
    assert min(row.attempts for row in rows) >= 3
    assert fcm.received == []

    # FCM is back on the same address.
    fcm.down = False
    with fcm.running(fcm_port):
        # The rows' jittered retries fall due at different times: a round for each at most.
        for _ in range(NOTIFICATIONS):
            if all(row.state == "sent" for row in await outbox_rows(runtime)):
                break
            await wait_out_backoff(runtime, clock)
            await dispatch_round(runtime)
        rows = await outbox_rows(runtime)
        assert {row.state for row in rows} == {"sent"}
        delivered = Counter(
            (r.token, r.body["message"]["notification"]["title"]) for r in fcm.received
        )
    titles = {f"Notice {n}" for n in range(NOTIFICATIONS)}
    assert set(delivered) == {(phone, title) for phone in phones for title in titles}
    assert set(delivered.values()) == {1}  # none twice
    assert clock.now() - went_down >= DOWN_FOR
