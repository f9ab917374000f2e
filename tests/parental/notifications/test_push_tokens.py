"""A guardian's phones for push notifications (``/v1/push-tokens``) and their retention."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications import tokens
from parental.notifications.models import PushToken
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from tests.fakes.fcm import FakeFcm
from tests.parental.notifications.conftest import (
    add_phone,
    enqueue,
    fcm_token,
    guardian,
    push_settings,
)


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return push_settings(fcm)


async def listed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, str]]:
    response = await client.get("/v1/push-tokens", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, str]] = response.json()["items"]
    return items


async def test_register_refresh_and_list_show_only_the_tokens_end(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    parent = await guardian(client, runtime)
    token = fcm_token("phone")
    first = await add_phone(client, parent, token)
    clock.advance(timedelta(minutes=5))
    again = await client.put(
        "/v1/push-tokens",
        headers=parent.headers,
        json={"token": token, "platform": "android", "app_version": "1.5.0", "locale": "kk"},
    )

    assert again.status_code == 200
    assert again.json()["id"] == first  # idempotent: the same phone, refreshed
    response = await client.get("/v1/push-tokens", headers=parent.headers)
    assert token not in response.text
    [item] = response.json()["items"]
    assert item["token_end"] == token[-8:]
    assert (item["app_version"], item["locale"]) == ("1.5.0", "kk")
    assert item["created_at"] != item["refreshed_at"]


async def test_a_token_registered_by_another_account_moves_to_the_caller(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    mum, dad = await guardian(client, runtime, 1), await guardian(client, runtime, 2)
    token = fcm_token("shared")
    first = await add_phone(client, mum, token)

    assert await add_phone(client, dad, token) == first

    assert await listed(client, mum.headers) == []
    assert [t["id"] for t in await listed(client, dad.headers)] == [first]


async def test_delete_own_token_and_404_for_another_accounts(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    mum, stranger = await guardian(client, runtime, 1), await guardian(client, runtime, 2)
    token_id = await add_phone(client, mum, fcm_token("phone"))

    theirs = await client.delete(f"/v1/push-tokens/{token_id}", headers=stranger.headers)
    assert theirs.status_code == 404
    assert theirs.json()["error"] == "PushTokenNotFound"
    assert len(await listed(client, mum.headers)) == 1

    mine = await client.delete(f"/v1/push-tokens/{token_id}", headers=mum.headers)
    assert mine.status_code == 204
    assert await listed(client, mum.headers) == []


@pytest.mark.parametrize(
    "body",
    [
        {"token": "short", "platform": "android", "app_version": "1", "locale": "ru"},
        {"token": fcm_token("a"), "platform": "windows", "app_version": "1", "locale": "ru"},
        {"token": fcm_token("a"), "platform": "ios", "app_version": "1", "locale": "de"},
        {"token": fcm_token("a") + " x", "platform": "ios", "app_version": "1", "locale": "ru"},
        {"token": fcm_token("a"), "platform": "ios", "app_version": "1", "locale": "ru", "x": 1},
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, body: dict[str, object]
) -> None:
    parent = await guardian(client, runtime)

    response = await client.put("/v1/push-tokens", headers=parent.headers, json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "ValidationError"
    assert await listed(client, parent.headers) == []


async def test_token_writes_are_rate_limited(client: httpx.AsyncClient, runtime: Runtime) -> None:
    parent = await guardian(client, runtime)
    for n in range(5):  # the test settings allow 5 an hour
        await add_phone(client, parent, fcm_token(f"p{n}"))

    response = await client.put(
        "/v1/push-tokens",
        headers=parent.headers,
        json={"token": fcm_token("p5"), "platform": "ios", "app_version": "1", "locale": "ru"},
    )

    assert response.status_code == 429
    assert response.json()["error"] == "TooManyRequests"
    assert len(await listed(client, parent.headers)) == 5


async def phone_ends(runtime: Runtime) -> list[str]:
    async with transaction(runtime.sessions) as session:
        return [row.token[-8:] for row in (await session.scalars(select(PushToken))).all()]


async def test_purge_deletes_old_notifications_and_stale_tokens(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("old"))
    await enqueue(runtime, parent.account_id, "old")
    clock.advance(timedelta(days=2))
    async with transaction(runtime.sessions) as session:  # as the app does on its next start
        await tokens.register(
            session,
            account_id=uuid.UUID(parent.account_id),
            token=fcm_token("newer"),
            platform="ios",
            app_version="1.4.0",
            locale="ru",
            now=clock.now(),
        )
    await enqueue(runtime, parent.account_id, "newer")

    clock.advance(timedelta(days=29))  # 31 and 29 days after they were written
    report = await purge_expired(runtime)
    assert (report.push_outbox, report.push_tokens) == (1, 0)
    assert await enqueue(runtime, parent.account_id, "old") is True  # it went
    assert await enqueue(runtime, parent.account_id, "newer") is False  # it stays

    clock.advance(timedelta(days=240))  # "old" refreshed 271 days ago, "newer" 269
    report = await purge_expired(runtime)
    assert report.push_tokens == 1
    assert await phone_ends(runtime) == [fcm_token("newer")[-8:]]
