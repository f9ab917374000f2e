"""The dispatcher against a local FCM server, with the real firebase-admin SDK sending."""

from __future__ import annotations

import random
import socket
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications.dispatcher import dispatch_due, dispatch_round
from parental.notifications.models import PushOutboxRow, PushToken
from parental.notifications.outbox import PushMessage
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import START
from tests.fakes import fcm as answers
from tests.fakes.fcm import FakeFcm
from tests.parental.notifications.conftest import (
    ACCESS_TOKEN,
    PROJECT,
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


ALERT = PushMessage(
    title="Айгерим вышла из зоны «Школа»",
    body="В 14:05, точность 20 м",
    data={"type": "geofence_exit", "child_id": "c-1"},
    collapse_key="geofence:c-1",
    ttl_seconds=3600,
    priority="high",
)


async def row(runtime: Runtime, key: str) -> PushOutboxRow:
    async with transaction(runtime.sessions) as session:
        found = await session.scalar(select(PushOutboxRow).where(PushOutboxRow.dedup_key == key))
    assert found is not None
    return found


async def token_count(runtime: Runtime) -> int:
    async with transaction(runtime.sessions) as session:
        return len((await session.scalars(select(PushToken))).all())


async def test_the_exact_json_fcm_receives(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    phone = fcm_token("phone")
    await add_phone(client, parent, phone)
    await enqueue(runtime, parent.account_id, "exit:1", ALERT)
    clock.advance(timedelta(seconds=60))  # the TTL left is what FCM gets

    report = await dispatch_round(runtime)

    assert (report.claimed, report.sent) == (1, 1)
    [received] = fcm.received
    assert received.project == PROJECT
    assert received.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert received.headers["x-goog-api-format-version"] == "2"
    assert received.body == {
        "message": {
            "token": phone,
            "notification": {"title": ALERT.title, "body": ALERT.body},
            "data": {"type": "geofence_exit", "child_id": "c-1"},
            "android": {"priority": "high", "ttl": "3540s", "collapse_key": "geofence:c-1"},
            "apns": {
                "headers": {
                    "apns-priority": "10",
                    "apns-push-type": "alert",
                    "apns-expiration": str(int(START.timestamp()) + 3600),
                    "apns-collapse-id": "geofence:c-1",
                }
            },
        }
    }
    sent = await row(runtime, "exit:1")
    assert (sent.state, sent.attempts, sent.sent_at) == ("sent", 1, clock.now())
    assert sent.leased_by is None


async def test_a_data_message_is_silent_on_ios(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("iphone"), platform="ios")
    quiet = PushMessage(
        title=None, body=None, data={"type": "sync"}, ttl_seconds=600, priority="normal"
    )
    await enqueue(runtime, parent.account_id, "sync:1", quiet)

    await dispatch_round(runtime)

    message = fcm.received[0].body["message"]
    assert "notification" not in message
    assert message["android"] == {"priority": "normal", "ttl": "600s"}
    assert message["apns"] == {
        "headers": {
            "apns-priority": "5",
            "apns-push-type": "background",
            "apns-expiration": str(int(START.timestamp()) + 600),
        },
        "payload": {"aps": {"content-available": 1}},
    }


async def test_unregistered_and_invalid_tokens_are_deleted_the_rest_delivered(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    gone, invalid, good = fcm_token("gone"), fcm_token("invalid"), fcm_token("good")
    for token in (gone, invalid, good):
        await add_phone(client, parent, token)
    fcm.script(gone, answers.unregistered())
    fcm.script(invalid, answers.invalid_token())
    await enqueue(runtime, parent.account_id, "k")

    report = await dispatch_round(runtime)

    assert (report.sent, report.tokens_removed) == (1, 2)
    listed = await client.get("/v1/push-tokens", headers=parent.headers)
    assert [t["token_end"] for t in listed.json()["items"]] == [good[-8:]]
    sent = await row(runtime, "k")
    assert sent.state == "sent"
    assert sent.last_error == "InvalidArgumentError 400, UnregisteredError 404"


async def test_a_refused_message_fails_at_once_and_is_never_retried(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    phone = fcm_token("phone")
    await add_phone(client, parent, phone)
    fcm.script(phone, answers.invalid_message())
    await enqueue(runtime, parent.account_id, "k")

    report = await dispatch_round(runtime)
    clock.advance(timedelta(days=1))
    again = await dispatch_round(runtime)

    assert (report.failed, again.claimed) == (1, 0)
    assert len(fcm.received) == 1
    failed = await row(runtime, "k")
    assert (failed.state, failed.last_error) == ("failed", "InvalidArgumentError 400")
    assert await token_count(runtime) == 1  # the message was wrong, not the phone


async def test_quota_exceeded_waits_for_retry_after(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    phone = fcm_token("phone")
    await add_phone(client, parent, phone)
    fcm.script(phone, answers.quota_exceeded(retry_after=120))
    await enqueue(runtime, parent.account_id, "k")

    first = await dispatch_round(runtime)
    waiting = await row(runtime, "k")
    assert (first.retried, waiting.state, waiting.attempts) == (1, "pending", 1)
    assert waiting.next_attempt_at == START + timedelta(seconds=120)
    assert waiting.last_error == "QuotaExceededError 429"

    clock.advance(timedelta(seconds=119))
    assert (await dispatch_round(runtime)).claimed == 0
    clock.advance(timedelta(seconds=1))
    assert (await dispatch_round(runtime)).sent == 1
    assert len(fcm.to(phone)) == 2


async def test_unavailable_then_success_with_jittered_backoff(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    phone, other = fcm_token("phone"), fcm_token("other")
    await add_phone(client, parent, phone)
    await add_phone(client, parent, other)
    fcm.script(phone, answers.unavailable())
    await enqueue(runtime, parent.account_id, "k")

    await dispatch_round(runtime)
    waiting = await row(runtime, "k")
    delay = (waiting.next_attempt_at - START).total_seconds()
    assert 15 <= delay <= 30  # base 30 s: half fixed, half random
    assert waiting.last_error == "UnavailableError 503"
    assert len(waiting.delivered_to) == 1  # the other phone has it

    clock.set(waiting.next_attempt_at)
    assert (await dispatch_round(runtime)).sent == 1
    assert len(fcm.to(phone)) == 2
    assert len(fcm.to(other)) == 1  # never sent twice


async def test_backoff_doubles_up_to_the_cap_then_gives_up(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"push_backoff_base_seconds": 10.0, "push_backoff_max_seconds": 40.0}
    )
    runtime.settings.push_max_attempts = 5
    parent = await guardian(client, runtime)
    phone = fcm_token("phone")
    await add_phone(client, parent, phone)
    fcm.script(phone, *[answers.unavailable()] * 5)
    await enqueue(runtime, parent.account_id, "k")
    rng = random.Random(7)

    delays = []
    for _ in range(4):
        before = clock.now()
        assert (await dispatch_round(runtime, rng=rng)).retried == 1
        waiting = await row(runtime, "k")
        delays.append((waiting.next_attempt_at - before).total_seconds())
        clock.set(waiting.next_attempt_at)
    for delay, full in zip(delays, [10, 20, 40, 40], strict=True):
        assert full / 2 <= delay <= full
    report = await dispatch_round(runtime, rng=rng)

    assert report.failed == 1
    gave_up = await row(runtime, "k")
    assert (gave_up.state, gave_up.attempts) == ("failed", 5)
    assert gave_up.last_error == "gave up: UnavailableError 503"
    assert len(fcm.to(phone)) == 5


async def test_connection_refused_is_tried_again(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    runtime.push = fixed_token_sender(
        runtime.settings.model_copy(update={"fcm_url": f"http://127.0.0.1:{port}"})
    )
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("phone"))
    await enqueue(runtime, parent.account_id, "k")

    report = await dispatch_round(runtime)

    assert report.retried == 1
    waiting = await row(runtime, "k")
    assert (waiting.state, waiting.last_error) == ("pending", "UnavailableError")
    assert await token_count(runtime) == 1


async def test_a_recipient_without_phones_is_done(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    await enqueue(runtime, parent.account_id, "k")

    assert (await dispatch_round(runtime)).sent == 1
    assert fcm.received == []


async def test_without_a_project_rows_wait(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    runtime.push = fixed_token_sender(runtime.settings.model_copy(update={"fcm_project_id": None}))
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("phone"))
    await enqueue(runtime, parent.account_id, "k")

    assert (await dispatch_round(runtime)).claimed == 0
    assert (await row(runtime, "k")).state == "pending"
    assert fcm.received == []


async def test_a_message_past_its_ttl_is_not_sent(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("phone"))
    await enqueue(runtime, parent.account_id, "k", ALERT)
    clock.advance(timedelta(seconds=ALERT.ttl_seconds))

    assert (await dispatch_round(runtime)).failed == 1
    assert (await row(runtime, "k")).last_error == "expired before sent"
    assert fcm.received == []


async def test_a_duplicate_key_is_enqueued_once(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("phone"))

    assert await enqueue(runtime, parent.account_id, "same") is True
    assert await enqueue(runtime, parent.account_id, "same") is False

    assert (await dispatch_round(runtime)).sent == 1
    assert len(fcm.received) == 1


async def test_the_sdk_retries_a_503_at_once_when_configured(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    runtime.push = fixed_token_sender(runtime.settings.model_copy(update={"fcm_http_retries": 1}))
    parent = await guardian(client, runtime)
    phone = fcm_token("phone")
    await add_phone(client, parent, phone)
    fcm.script(phone, answers.unavailable())
    await enqueue(runtime, parent.account_id, "k")

    report = await dispatch_round(runtime)
    assert len(fcm.to(phone)) == 2, (await row(runtime, "k")).last_error
    assert report.sent == 1


async def test_the_worker_loop_drains_a_backlog_in_one_turn(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"push_batch_size": 2})
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("phone"))
    for n in range(5):
        await enqueue(runtime, parent.account_id, f"k{n}")

    await dispatch_due(runtime)

    assert len(fcm.received) == 5
