"""Commands to an iPhone: the device agent registers its platform (and language) with its
token, and what FCM is asked to send follows Apple's rules (``parental.commands.push``): what
the child must hear or see is a visible alert at APNs priority 10 (``ring`` with a critical
sound), what the agent does silently a background push at priority 5. Android is unchanged;
an agent that does not name its platform is treated as Android. Exact JSON, as the real
firebase-admin SDK sends it to the local FCM server."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Uuid, bindparam, delete, select, text

from parental.kit.clock import FrozenClock
from parental.kit.db import UTCDateTime, transaction
from parental.notifications.dispatcher import dispatch_round
from parental.notifications.models import DevicePushToken
from parental.runtime import Runtime
from tests.conftest import START
from tests.fakes.fcm import FakeFcm
from tests.parental.commands.conftest import give
from tests.parental.factories import FamilyWorld, pair_device
from tests.parental.notifications.conftest import fcm_token

pytestmark = pytest.mark.usefixtures("push_sender")

IPHONE = fcm_token("child-iphone")
# Every command below is given at START: it waits 600 s, each message lives 60 s.
EXPIRES_AT = (START + timedelta(seconds=600)).isoformat()
APNS_EXPIRATION = str(int(START.timestamp()) + 60)


async def put_token(client: httpx.AsyncClient, family: FamilyWorld, **body: Any) -> httpx.Response:
    return await client.put("/v1/device/push-token", headers=family.device_headers, json=body)


async def register_iphone(
    client: httpx.AsyncClient, family: FamilyWorld, locale: str | None = "ru"
) -> None:
    body = {"token": IPHONE, "platform": "ios"} | ({"locale": locale} if locale else {})
    response = await put_token(client, family, **body)
    assert response.status_code == 204, response.text


async def sent(runtime: Runtime, fcm: FakeFcm, token: str = IPHONE) -> list[dict[str, Any]]:
    await dispatch_round(runtime)
    return [received.body["message"] for received in fcm.to(token)]


async def stored_token(runtime: Runtime, family: FamilyWorld) -> tuple[str, str, str | None]:
    async with transaction(runtime.sessions) as session:
        row = (
            await session.execute(
                select(
                    DevicePushToken.token, DevicePushToken.platform, DevicePushToken.locale
                ).where(DevicePushToken.device_id == uuid.UUID(family.device_id))
            )
        ).one()
    return row.token, row.platform, row.locale


async def test_a_ring_reaches_an_iphone_as_a_critical_alert_that_sounds_even_on_silent(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_iphone(client, family, locale="ru")
    response = await give(client, family, {"kind": "ring"})
    assert response.status_code == 201, response.text

    assert await sent(runtime, fcm) == [
        {
            "token": IPHONE,
            "notification": {
                "title": "Родители ищут этот телефон",
                "body": "Телефон громко звонит, даже в беззвучном режиме. Нашёлся? "
                "Позвони родителям.",
            },
            "data": {
                "type": "command",
                "command_id": response.json()["id"],
                "kind": "ring",
                "expires_at": EXPIRES_AT,
                "notify_child": "true",
            },
            "android": {"priority": "high", "ttl": "60s"},
            "apns": {
                "headers": {
                    "apns-priority": "10",
                    "apns-push-type": "alert",
                    "apns-expiration": APNS_EXPIRATION,
                },
                "payload": {"aps": {"sound": {"critical": 1, "name": "default", "volume": 1.0}}},
            },
        }
    ]


async def test_locate_now_reaches_an_iphone_as_a_background_push(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_iphone(client, family)
    response = await give(client, family, {"kind": "locate_now"})
    assert response.status_code == 201, response.text

    # iOS takes no priority-10 background push: nothing to show, so priority 5.
    assert await sent(runtime, fcm) == [
        {
            "token": IPHONE,
            "data": {
                "type": "command",
                "command_id": response.json()["id"],
                "kind": "locate_now",
                "expires_at": EXPIRES_AT,
                "notify_child": "true",
            },
            "android": {"priority": "high", "ttl": "60s"},
            "apns": {
                "headers": {
                    "apns-priority": "5",
                    "apns-push-type": "background",
                    "apns-expiration": APNS_EXPIRATION,
                },
                "payload": {"aps": {"content-available": 1}},
            },
        }
    ]


async def test_message_and_listen_are_visible_alerts_in_the_agents_language_sync_is_silent(
    client: httpx.AsyncClient,
    runtime: Runtime,
    fcm: FakeFcm,
    clock: FrozenClock,
    family: FamilyWorld,
) -> None:
    await register_iphone(client, family, locale="en")
    for body in (
        {"kind": "message", "text": "Позвони маме"},
        {"kind": "listen", "seconds": 20},
        {"kind": "sync_policy"},
    ):
        assert (await give(client, family, body)).status_code == 201
    by_kind = {m["data"]["kind"]: m for m in await sent(runtime, fcm)}
    message, listen, sync = by_kind["message"], by_kind["listen"], by_kind["sync_policy"]

    assert message["notification"] == {
        "title": "A message from your parent",
        "body": "Позвони маме",  # the guardian's words, as written
    }
    assert message["data"]["text"] == "Позвони маме"
    assert listen["notification"] == {
        "title": "Your parent is listening through the microphone",
        "body": "The microphone records for up to 20 seconds. A sign stays on the screen "
        "while it records.",
    }
    assert listen["data"]["seconds"] == "20"
    for alert in (message, listen):
        assert alert["data"]["notify_child"] == "true"
        assert alert["apns"]["headers"]["apns-priority"] == "10"
        assert alert["apns"]["headers"]["apns-push-type"] == "alert"
        assert alert["apns"]["payload"] == {"aps": {"sound": "default"}}
    assert "notification" not in sync
    assert sync["data"]["kind"] == "sync_policy"
    assert sync["data"]["notify_child"] == "true"
    assert sync["apns"]["headers"]["apns-priority"] == "5"
    assert sync["apns"]["payload"] == {"aps": {"content-available": 1}}

    # Pushed again at check-in, an alert still (the agent may not have been running).
    clock.advance(timedelta(seconds=runtime.settings.command_resend_seconds))
    checked_in = await client.get("/v1/device/commands", headers=family.device_headers)
    assert checked_in.status_code == 200, checked_in.text
    again = {m["data"]["kind"]: m for m in (await sent(runtime, fcm))[3:]}
    assert set(again) == {"message", "listen", "sync_policy"}
    assert again["message"]["notification"] == message["notification"]
    assert again["listen"]["apns"]["headers"]["apns-push-type"] == "alert"
    assert again["sync_policy"]["apns"]["headers"]["apns-push-type"] == "background"


async def test_without_a_language_the_alert_is_in_the_default_one(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_iphone(client, family, locale=None)
    assert (await give(client, family, {"kind": "ring"})).status_code == 201
    [ring] = await sent(runtime, fcm)
    assert ring["notification"]["title"] == "Ата-анаң телефонды іздеп жатыр"


async def test_an_agent_that_names_no_platform_has_the_one_it_was_paired_with(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    # The family's phone was paired as an Android one.
    response = await put_token(client, family, token=IPHONE)
    assert response.status_code == 204, response.text
    assert await stored_token(runtime, family) == (IPHONE, "android", None)
    assert (await give(client, family, {"kind": "ring"})).status_code == 201
    [ring] = await sent(runtime, fcm)
    assert "notification" not in ring
    assert ring["apns"]["headers"]["apns-priority"] == "5"

    # Registering again with a platform changes it, and the next command follows.
    await register_iphone(client, family, locale="kk")
    assert await stored_token(runtime, family) == (IPHONE, "ios", "kk")
    assert (await give(client, family, {"kind": "ring"})).status_code == 201
    later = await sent(runtime, fcm)
    assert later[-1]["apns"]["headers"]["apns-push-type"] == "alert"


async def test_an_iphone_paired_as_ios_gets_alerts_without_naming_its_platform(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    _, token = await pair_device(
        client, family.guardian, family.child_id, name="iPhone", platform="ios"
    )
    registered = await client.put(
        "/v1/device/push-token",
        headers={"Authorization": f"Bearer {token}"},
        json={"token": IPHONE},
    )
    assert registered.status_code == 204, registered.text
    assert (await give(client, family, {"kind": "ring"})).status_code == 201
    [ring] = await sent(runtime, fcm)
    assert ring["apns"]["headers"]["apns-push-type"] == "alert"
    assert ring["apns"]["payload"]["aps"]["sound"]["critical"] == 1


async def test_a_token_stored_before_platforms_existed_reads_as_android(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    # A row as the agents wrote it before the migration: no platform, no language.
    insert = text(
        "INSERT INTO device_push_tokens (id, device_id, token, created_at, refreshed_at) "
        "VALUES (:id, :device_id, :token, :at, :at)"
    ).bindparams(
        bindparam("id", type_=Uuid()),
        bindparam("device_id", type_=Uuid()),
        bindparam("at", type_=UTCDateTime()),
    )
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(DevicePushToken))
        await session.execute(
            insert,
            {
                "id": uuid.uuid4(),
                "device_id": uuid.UUID(family.device_id),
                "token": IPHONE,
                "at": START,
            },
        )
    assert await stored_token(runtime, family) == (IPHONE, "android", None)
    assert (await give(client, family, {"kind": "ring"})).status_code == 201
    [ring] = await sent(runtime, fcm)
    assert "notification" not in ring


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "windows"},
        {"platform": "iOS"},
        {"platform": "ios", "locale": "de"},
    ],
)
async def test_a_bad_platform_or_language_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient,
    runtime: Runtime,
    fcm: FakeFcm,
    family: FamilyWorld,
    body: dict[str, Any],
) -> None:
    first = await put_token(client, family, token=IPHONE, platform="android")
    assert first.status_code == 204, first.text

    other = fcm_token("another-phone")
    response = await put_token(client, family, token=other, **body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"
    assert await stored_token(runtime, family) == (IPHONE, "android", None)
    assert (await give(client, family, {"kind": "ring"})).status_code == 201
    [ring] = await sent(runtime, fcm)
    assert "notification" not in ring
    assert fcm.to(other) == []
