"""The child's screen-time requests through the API: the device asks for extra time or an app
install, the guardian answers (extra time lands in the device's policy, a declined install
blocks the app), expiry at the child's midnight, answers given once, validation, ownership,
monitoring, the audit rows the child sees, events on the bus after commit, limits, retention.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in the child's Asia/Almaty
(UTC+5): the child's midnight is 19:00 UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.kit.clock import FrozenClock
from parental.kit.events import Event
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.usage.events import AppInstallRequested, ExtraTimeRequested
from telemetry.usage.requests.models import ScreenTimeRequest
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_locations import minor_turning_18_tomorrow
from tests.parental.test_screen_time import RULES, decision, get_rules, policy, put_rules
from tests.parental.test_usage import app, upload

GAME = "com.example.game"
MAPS = "org.example.maps"
DEVICE_REQUESTS = "/v1/device/screen-time/requests"
MIDNIGHT = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


def long_tokens(**changes: Any) -> ParentalSettings:
    """Access tokens that outlive the hours these tests move the clock by."""
    return ParentalSettings(access_token_ttl_seconds=7 * 24 * 3600, **changes)


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return long_tokens()


def child_requests(family: FamilyWorld) -> str:
    return f"/v1/children/{family.child_id}/screen-time/requests"


async def ask(client: httpx.AsyncClient, family: FamilyWorld, **body: Any) -> httpx.Response:
    return await client.post(DEVICE_REQUESTS, headers=family.device_headers, json=body)


async def ask_time(
    client: httpx.AsyncClient, family: FamilyWorld, minutes: int = 20, **body: Any
) -> dict[str, Any]:
    response = await ask(
        client, family, kind="extra_time", minutes=minutes, **({"app": GAME} | body)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def ask_install(
    client: httpx.AsyncClient, family: FamilyWorld, app_id: str = MAPS, **body: Any
) -> httpx.Response:
    return await ask(
        client, family, kind="app_install", app=app_id, **({"app_name": "Maps"} | body)
    )


async def listed(client: httpx.AsyncClient, family: FamilyWorld, **params: Any) -> dict[str, Any]:
    response = await client.get(
        child_requests(family), headers=family.guardian.headers, params=params
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def answer(
    client: httpx.AsyncClient, family: FamilyWorld, request_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"{child_requests(family)}/{request_id}/decision",
        headers=family.guardian.headers,
        json=body,
    )


async def seen_by_child(
    client: httpx.AsyncClient, family: FamilyWorld
) -> list[tuple[str, str, dict[str, Any]]]:
    """The child-visible audit rows of requests: (action, actor, details), by action (the
    frozen clock gives them all one instant; "created" sorts before "decided")."""
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert events.status_code == 200, events.text
    found = [
        (e["action"], e["actor_type"], e["details"])
        for e in events.json()["items"]
        if e["action"].startswith("screen_time_request.")
    ]
    return sorted(found, key=lambda event: event[0])


async def stored(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        query = select(func.count()).select_from(ScreenTimeRequest)
        return int(await session.scalar(query) or 0)


@pytest.fixture
def heard(runtime: Runtime) -> list[Event]:
    """Every request event published, each checked to be committed when it arrives."""
    seen: list[Event] = []

    async def keep(event: ExtraTimeRequested | AppInstallRequested) -> None:
        async with runtime.sessions() as session:  # another connection: sees only commits
            assert await session.get(ScreenTimeRequest, event.request_id) is not None
        seen.append(event)

    runtime.bus.subscribe(ExtraTimeRequested, keep)
    runtime.bus.subscribe(AppInstallRequested, keep)
    return seen


# --- extra time -----------------------------------------------------------------------------


async def test_extra_time_asked_and_approved_lands_in_the_policy(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    family: FamilyWorld,
    heard: list[Event],
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    assert (await upload(client, family, app(clock.now() - timedelta(hours=2), 40))).is_success
    assert (await decision(client, family))["apps"][GAME]["reason"] == "app_limit"

    asked = await ask_time(client, family, 20, message="  Homework is done!  ")
    assert {k: asked[k] for k in ("kind", "app", "category", "minutes", "message", "status")} == {
        "kind": "extra_time",
        "app": GAME,
        "category": None,
        "minutes": 20,
        "message": "Homework is done!",
        "status": "pending",
    }
    assert (asked["day"], asked["device_id"]) == ("2026-11-25", family.device_id)
    assert datetime.fromisoformat(asked["expires_at"]) == MIDNIGHT
    assert [(type(e), e.request_id, e.minutes, e.message) for e in heard] == [  # type: ignore[attr-defined]
        (ExtraTimeRequested, uuid.UUID(asked["id"]), 20, "Homework is done!")
    ]

    (item,) = (await listed(client, family))["items"]
    assert item == asked
    approved = await answer(client, family, asked["id"], decision="approve", minutes=15)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["granted_minutes"], body["reply"]) == ("approved", 15, None)
    assert (await decision(client, family))["apps"][GAME] == {
        "allowed": True,
        "reason": "allowed",
        "minutes_left": 5.0,  # 30 - 40 + 15
    }
    grants = (await get_rules(client, family))["extra_time"]
    assert [(g["app"], g["minutes"], g["granted_by"]) for g in grants] == [
        (GAME, 15, family.guardian.account_id)
    ]

    own = await client.get(DEVICE_REQUESTS, headers=family.device_headers)
    assert own.status_code == 200, own.text
    assert [(r["id"], r["status"], r["granted_minutes"]) for r in own.json()["items"]] == [
        (asked["id"], "approved", 15)
    ]
    assert await seen_by_child(client, family) == [
        (
            "screen_time_request.created",
            "device",
            {"kind": "extra_time", "app": GAME, "minutes": 20},
        ),
        (
            "screen_time_request.decided",
            "guardian",
            {
                "kind": "extra_time",
                "decision": "approve",
                "app": GAME,
                "minutes": 15,
                "day": "2026-11-25",
                "revision": 2,
            },
        ),
    ]


async def test_a_request_is_answered_once(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    asked = await ask_time(client, family, 30, category="games", app=None)
    assert asked["category"] == "games"
    first = await answer(client, family, asked["id"], decision="approve")
    assert (first.status_code, first.json()["granted_minutes"]) == (200, 30)
    for again in (
        await answer(client, family, asked["id"], decision="approve"),
        await answer(client, family, asked["id"], decision="decline"),
    ):
        assert (again.status_code, again.json()["error"]) == (
            409,
            "ScreenTimeRequestAlreadyDecided",
        )
    rules = await get_rules(client, family)
    assert [(g["category"], g["minutes"]) for g in rules["extra_time"]] == [("games", 30)]
    assert rules["revision"] == 1


async def test_declined_extra_time_grants_nothing_and_the_child_reads_the_reply(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    asked = await ask_time(client, family)
    declined = await answer(client, family, asked["id"], decision="decline", reply="Not today")
    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["granted_minutes"]) == ("declined", None)
    assert (await get_rules(client, family))["revision"] == 0
    own = (await client.get(DEVICE_REQUESTS, headers=family.device_headers)).json()["items"]
    assert [(r["status"], r["reply"]) for r in own] == [("declined", "Not today")]
    assert (await seen_by_child(client, family))[-1][2] == {
        "kind": "extra_time",
        "decision": "decline",
        "app": GAME,
    }


async def test_unanswered_extra_time_expires_at_the_childs_midnight(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    asked = await ask_time(client, family)
    clock.set(MIDNIGHT - timedelta(microseconds=1))
    assert [r["status"] for r in (await listed(client, family))["items"]] == ["pending"]

    clock.set(MIDNIGHT)  # 00:00 on Thursday in Almaty
    assert [r["status"] for r in (await listed(client, family))["items"]] == ["expired"]
    assert (await listed(client, family, status="pending"))["items"] == []
    assert [r["id"] for r in (await listed(client, family, status="expired"))["items"]] == [
        asked["id"]
    ]
    for late in (
        await answer(client, family, asked["id"], decision="approve"),
        await answer(client, family, asked["id"], decision="decline"),
    ):
        assert (late.status_code, late.json()["error"]) == (409, "ScreenTimeRequestExpired")
    assert (await get_rules(client, family))["extra_time"] == []
    own = (await client.get(DEVICE_REQUESTS, headers=family.device_headers)).json()["items"]
    assert [r["status"] for r in own] == ["expired"]

    today = await ask_time(client, family)  # Thursday's own request
    assert (today["day"], today["status"]) == ("2026-11-26", "pending")
    assert datetime.fromisoformat(today["expires_at"]) == MIDNIGHT + timedelta(days=1)


# --- app installs ---------------------------------------------------------------------------


async def test_a_declined_install_blocks_the_app_and_an_approved_one_lets_it_run(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld, heard: list[Event]
) -> None:
    first = await ask_install(client, family, message="For the school trip")
    assert first.status_code == 201, first.text
    again = await ask_install(client, family)  # still pending: the same request
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["message"] == "For the school trip"
    assert [(type(e), e.app, e.app_name) for e in heard] == [  # type: ignore[attr-defined]
        (AppInstallRequested, MAPS, "Maps")
    ]
    assert (await policy(client, family)).json()["installs"] == {}

    minutes = await answer(client, family, first.json()["id"], decision="approve", minutes=5)
    assert (minutes.status_code, minutes.json()["error"]) == (400, "InvalidRequestDecision")
    declined = await answer(client, family, first.json()["id"], decision="decline")
    assert declined.status_code == 200, declined.text
    body = (await policy(client, family)).json()
    assert body["installs"] == {MAPS: "declined"}
    assert body["decision"]["apps"][MAPS] == {
        "allowed": False,
        "reason": "blocked",
        "minutes_left": 0.0,
    }
    assert body["rules"]["blocked"] == []  # the guardian's rules stay as set

    clock.advance(timedelta(minutes=1))  # the latest answer counts
    asked_again = await ask_install(client, family, app_name="Maps 2")
    assert asked_again.status_code == 201, asked_again.text
    assert asked_again.json()["id"] != first.json()["id"]
    approved = await answer(client, family, asked_again.json()["id"], decision="approve")
    assert approved.status_code == 200, approved.text
    body = (await policy(client, family)).json()
    assert body["installs"] == {MAPS: "approved"}
    assert body["decision"]["apps"][MAPS]["allowed"] is True
    own = (await client.get(DEVICE_REQUESTS, headers=family.device_headers)).json()["items"]
    assert [(r["kind"], r["app_name"], r["status"]) for r in own] == [
        ("app_install", "Maps 2", "approved"),
        ("app_install", "Maps", "declined"),
    ]


async def test_the_policy_etag_changes_with_an_install_answer(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    asked = await ask_install(client, family)
    etag = (await policy(client, family)).headers["etag"]
    assert (await answer(client, family, asked.json()["id"], decision="decline")).is_success
    changed = await policy(client, family, etag)
    assert changed.status_code == 200
    assert changed.json()["revision"] == 0  # the rules did not change; the answer did


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"minutes": 10, "app": GAME},
        {"kind": "more_time", "minutes": 10, "app": GAME},
        {"kind": "extra_time", "minutes": 10},
        {"kind": "extra_time", "minutes": 10, "app": GAME, "category": "games"},
        {"kind": "extra_time", "minutes": 0, "app": GAME},
        {"kind": "extra_time", "minutes": 241, "app": GAME},
        {"kind": "extra_time", "minutes": 10, "category": "gambling"},
        {"kind": "extra_time", "minutes": 10, "app": "not an app"},
        {"kind": "extra_time", "minutes": 10, "app": GAME, "message": "x" * 501},
        {"kind": "extra_time", "minutes": 10, "app": GAME, "message": "bell\x07"},
        {"kind": "extra_time", "minutes": 10, "app": GAME, "surprise": True},
        {"kind": "app_install", "app": MAPS},
        {"kind": "app_install", "app": MAPS, "app_name": "   "},
        {"kind": "app_install", "app": MAPS, "app_name": "x" * 256},
        {"kind": "app_install", "app": "", "app_name": "Maps"},
        {"kind": "app_install", "app": MAPS, "app_name": "Maps", "minutes": 5},
    ],
)
async def test_invalid_requests_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    heard: list[Event],
    body: dict[str, Any],
) -> None:
    refused = await ask(client, family, **body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "ValidationError"
    assert await stored(runtime) == 0
    assert heard == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"decision": "maybe"},
        {"decision": "decline", "minutes": 10},
        {"decision": "approve", "minutes": 0},
        {"decision": "approve", "minutes": 241},
        {"decision": "approve", "reply": "x" * 501},
        {"decision": "approve", "surprise": 1},
    ],
)
async def test_invalid_answers_are_refused_and_change_nothing(
    client: httpx.AsyncClient, family: FamilyWorld, body: dict[str, Any]
) -> None:
    asked = await ask_time(client, family)
    refused = await answer(client, family, asked["id"], **body)
    assert refused.status_code == 422, refused.text
    assert [r["status"] for r in (await listed(client, family))["items"]] == ["pending"]
    assert (await get_rules(client, family))["revision"] == 0


async def test_a_cursor_not_issued_here_is_a_400(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    for params in ({"cursor": "garbage"}, {"cursor": "7.abc", "order": "pending_first"}):
        response = await client.get(
            child_requests(family), headers=family.guardian.headers, params=params
        )
        assert (response.status_code, response.json()["error"]) == (400, "InvalidCursor")


# --- who may ------------------------------------------------------------------------------


async def test_another_familys_guardian_and_device_reach_nothing(
    client: httpx.AsyncClient, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    asked = await ask_time(client, family)
    theirs = other_family.guardian.headers
    for response in (
        await client.get(child_requests(family), headers=theirs),
        await client.post(
            f"{child_requests(family)}/{asked['id']}/decision",
            headers=theirs,
            json={"decision": "approve"},
        ),
    ):
        assert (response.status_code, response.json()["error"]) == (404, "ChildNotFound")
    # Through their own child, our child's request is as unknown as a made-up id.
    for request_id in (asked["id"], str(uuid.uuid4())):
        response = await answer(client, other_family, request_id, decision="approve")
        assert (response.status_code, response.json()["error"]) == (
            404,
            "ScreenTimeRequestNotFound",
        )
    own = await client.get(DEVICE_REQUESTS, headers=other_family.device_headers)
    assert own.json()["items"] == []
    device_as_guardian = await client.get(child_requests(family), headers=family.device_headers)
    assert device_as_guardian.status_code == 401
    guardian_as_device = await client.get(DEVICE_REQUESTS, headers=family.guardian.headers)
    assert guardian_as_device.status_code == 401
    assert [r["status"] for r in (await listed(client, family))["items"]] == ["pending"]
    assert (await get_rules(client, family))["revision"] == 0


async def test_nothing_is_asked_or_answered_once_the_child_is_18(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    asked = await ask_time(client, teen)

    clock.advance(timedelta(days=1))
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)
    for response in (
        await ask(client, teen, kind="extra_time", app=GAME, minutes=5),
        await client.get(DEVICE_REQUESTS, headers=teen.device_headers),
        await client.get(child_requests(teen), headers=teen.guardian.headers),
        await answer(client, teen, asked["id"], decision="approve"),
    ):
        assert (response.status_code, response.json()["error"]) == (410, "MonitoringEndedAdult")
    assert await stored(runtime) == 1
    assert [a for a, _, _ in await seen_by_child(client, teen)] == ["screen_time_request.created"]


# --- limits -------------------------------------------------------------------------------


class TestPendingLimit:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return long_tokens(screen_time_max_pending_requests=3)

    async def test_a_child_has_at_most_so_many_requests_waiting(
        self, client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
    ) -> None:
        first = await ask_time(client, family)
        await ask_time(client, family)
        assert (await ask_install(client, family)).status_code == 201
        refused = await ask(client, family, kind="extra_time", app=GAME, minutes=5)
        assert (refused.status_code, refused.json()["error"]) == (409, "TooManyPendingRequests")
        assert "3 requests" in refused.json()["detail"]
        assert (await ask_install(client, family)).status_code == 200  # the pending one
        assert await stored(runtime) == 3

        assert (await answer(client, family, first["id"], decision="decline")).is_success
        await ask_time(client, family)  # an answered request no longer counts
        assert await stored(runtime) == 4


class TestRate:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return long_tokens(limit_screen_time_requests_per_device="3/minute")

    async def test_a_device_past_its_rate_is_refused_and_nothing_is_stored(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        family: FamilyWorld,
        other_family: FamilyWorld,
    ) -> None:
        for _ in range(3):
            await ask_time(client, family)
        refused = await ask(client, family, kind="extra_time", app=GAME, minutes=5)
        assert (refused.status_code, refused.json()["error"]) == (429, "TooManyRequests")
        assert int(refused.headers["retry-after"]) > 0
        assert await stored(runtime) == 3
        assert (await client.get(DEVICE_REQUESTS, headers=family.device_headers)).is_success
        await ask_time(client, other_family)


# --- lists ----------------------------------------------------------------------------------


async def test_lists_page_newest_first_or_pending_first(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    made = []
    for n in range(5):
        made.append((await ask_time(client, family, minutes=n + 1))["id"])
        clock.advance(timedelta(minutes=1))
    for n in (1, 3):
        assert (await answer(client, family, made[n], decision="decline")).is_success

    async def walk(**params: Any) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            page = await listed(
                client, family, limit=2, **params, **({"cursor": cursor} if cursor else {})
            )
            seen += [r["id"] for r in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    newest = list(reversed(made))
    assert await walk() == newest
    assert await walk(order="pending_first") == [made[4], made[2], made[0], made[3], made[1]]
    assert await walk(status="declined") == [made[3], made[1]]
    assert await walk(status="pending", order="pending_first") == [made[4], made[2], made[0]]
    device = await client.get(DEVICE_REQUESTS, headers=family.device_headers, params={"limit": 3})
    assert [r["id"] for r in device.json()["items"]] == newest[:3]
    assert device.json()["next_cursor"] is not None


# --- retention and removal ----------------------------------------------------------------


async def test_requests_are_purged_after_90_days_but_the_install_answer_in_force_stays(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    superseded = (await ask_install(client, family, message="please")).json()
    assert (await answer(client, family, superseded["id"], decision="approve")).is_success
    clock.advance(timedelta(minutes=1))
    in_force = (await ask_install(client, family, message="again")).json()
    assert (await answer(client, family, in_force["id"], decision="decline", reply="no")).is_success
    await ask_time(client, family)

    clock.advance(timedelta(days=90) - timedelta(minutes=1))
    assert (await purge_expired(runtime)).screen_time_requests == 0  # 90 days after the first
    clock.advance(timedelta(minutes=1))
    assert (await purge_expired(runtime)).screen_time_requests == 1  # the superseded answer
    clock.advance(timedelta(milliseconds=1))
    assert (await purge_expired(runtime)).screen_time_requests == 1  # the extra time
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    (kept,) = (await listed(client, family))["items"]
    assert (kept["id"], kept["status"], kept["message"], kept["reply"]) == (
        in_force["id"],
        "declined",
        None,  # the texts go with the retention
        None,
    )
    assert (await policy(client, family)).json()["installs"] == {MAPS: "declined"}


async def test_removing_the_child_erases_its_requests(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    await ask_time(client, family)
    assert (await ask_install(client, family)).status_code == 201
    await ask_time(client, other_family)
    removed = await client.delete(
        f"/v1/children/{family.child_id}", headers=family.guardian.headers
    )
    assert removed.status_code == 204, removed.text
    assert await stored(runtime) == 1
    assert len((await listed(client, other_family))["items"]) == 1
