from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from google.oauth2.credentials import Credentials

from parental.kit.db import transaction
from parental.notifications import outbox, pause
from parental.notifications.fcm import PushSender
from parental.notifications.outbox import PushMessage
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.fakes.fcm import FakeFcm
from tests.parental.factories import Guardian, sign_in

PROJECT = "test-project"
ACCESS_TOKEN = "test-access-token"


@pytest.fixture
def fcm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFcm]:
    # Straight to the local server. Not with NO_PROXY: httpx turns it into a mount for
    # 127.0.0.1 that outranks the SDK's retrying transport, so its retries would be skipped.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with FakeFcm().running() as server:
        yield server


def push_settings(fcm: FakeFcm) -> ParentalSettings:
    """Settings sending to the fake FCM server; a module of push tests returns them from its
    own ``parental_settings`` fixture and uses ``push_sender``."""
    # The dispatcher's own schedule is under test: the SDK does not retry by itself.
    return ParentalSettings(
        fcm_project_id=PROJECT,
        fcm_url=fcm.url,
        fcm_http_retries=0,
        fcm_http_backoff_factor=0,
        limit_push_token_writes_per_account="5/hour",
    )


def fixed_token_sender(settings: ParentalSettings) -> PushSender:
    """A sender with a fixed access token: no Google token endpoint is asked."""
    return PushSender(settings, credential=Credentials(token=ACCESS_TOKEN))


@pytest.fixture
async def push_sender(runtime: Runtime) -> AsyncIterator[None]:
    runtime.push = fixed_token_sender(runtime.settings)
    # A quota pause lives in Redis beyond the test that caused it; every test's clock starts
    # at the same instant, so one left over would hold the next test's rounds.
    await pause.clear(runtime)
    yield
    await pause.clear(runtime)


async def add_phone(
    client: httpx.AsyncClient,
    guardian: Guardian,
    token: str,
    *,
    platform: str = "android",
    locale: str = "ru",
) -> str:
    response = await client.put(
        "/v1/push-tokens",
        headers=guardian.headers,
        json={"token": token, "platform": platform, "app_version": "1.4.0", "locale": locale},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def guardian(client: httpx.AsyncClient, runtime: Runtime, n: int = 0) -> Guardian:
    return await sign_in(client, runtime, f"+7701555{n:04d}")


async def enqueue(
    runtime: Runtime, account_id: str, key: str, message: PushMessage | None = None
) -> bool:
    async with transaction(runtime.sessions) as session:
        return await outbox.enqueue(
            session,
            key=key,
            account_id=uuid.UUID(account_id),
            kind="test",
            message=message or PushMessage(title="Hello", body="World"),
            now=runtime.clock.now(),
        )


def fcm_token(name: str) -> str:
    """Something shaped like an FCM registration token."""
    return f"{name}:APA91b" + "x" * 140
