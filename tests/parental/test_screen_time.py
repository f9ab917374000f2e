"""Screen-time rules through the API: the guardian's rules, pause and extra time (validated,
owned, refused once monitoring ends, audited for the child), and the policy the child's device
fetches, evaluated on the usage it uploaded, with its ETag.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in the child's Asia/Almaty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_locations import minor_turning_18_tomorrow
from tests.parental.test_usage import app, upload

GAME = "com.example.game"
CHAT = "org.example.chat"
PHONE = "com.android.dialer"

RULES = {
    "app_limits": {
        GAME: {"minutes": 30},
        CHAT: {"by_weekday": {"sat": 120, "sun": None}, "otherwise": 60},
    },
    "category_limits": {"social": {"minutes": 90}},
    "total_limit": {"by_weekday": {"wed": 180}, "otherwise": None},
    "downtime": [{"days": ["mon", "tue", "wed", "thu", "sun"], "start": "21:00", "end": "07:00"}],
    "always_allowed": [PHONE],
    "blocked": ["com.example.casino"],
    "notify_limit_reached": True,
}
DEFAULTS = {
    "app_limits": {},
    "category_limits": {},
    "total_limit": None,
    "downtime": [],
    "always_allowed": [],
    "blocked": [],
    "notify_limit_reached": True,
}


def url(family: FamilyWorld, what: str) -> str:
    return f"/v1/children/{family.child_id}/screen-time/{what}"


async def put_rules(
    client: httpx.AsyncClient, family: FamilyWorld, rules: dict[str, Any]
) -> httpx.Response:
    return await client.put(url(family, "rules"), headers=family.guardian.headers, json=rules)


async def get_rules(client: httpx.AsyncClient, family: FamilyWorld) -> dict[str, Any]:
    response = await client.get(url(family, "rules"), headers=family.guardian.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def pause(client: httpx.AsyncClient, family: FamilyWorld, until: datetime) -> httpx.Response:
    return await client.post(
        url(family, "pause"), headers=family.guardian.headers, json={"until": until.isoformat()}
    )


async def resume(client: httpx.AsyncClient, family: FamilyWorld) -> httpx.Response:
    return await client.delete(url(family, "pause"), headers=family.guardian.headers)


async def extra_time(client: httpx.AsyncClient, family: FamilyWorld, **body: Any) -> httpx.Response:
    return await client.post(url(family, "extra-time"), headers=family.guardian.headers, json=body)


async def policy(
    client: httpx.AsyncClient, family: FamilyWorld, etag: str | None = None
) -> httpx.Response:
    headers = {**family.device_headers, **({"If-None-Match": etag} if etag else {})}
    return await client.get("/v1/device/policy", headers=headers)


async def decision(client: httpx.AsyncClient, family: FamilyWorld) -> dict[str, Any]:
    response = await policy(client, family)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["decision"]
    return body


def only_rules(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k in DEFAULTS}


async def screen_time_events(
    client: httpx.AsyncClient, family: FamilyWorld
) -> list[tuple[str, dict[str, Any]]]:
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert events.status_code == 200, events.text
    found = [
        (e["action"], e["details"])
        for e in events.json()["items"]
        if e["action"].startswith("screen_time.")
    ]
    # In the order they were made: the frozen clock gives them all one instant.
    return sorted(found, key=lambda event: int(event[1]["revision"]))


# --- the guardian's rules -------------------------------------------------------------------


async def test_rules_default_to_nothing_and_round_trip(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    assert await get_rules(client, family) == {
        **DEFAULTS,
        "revision": 0,
        "paused_until": None,
        "extra_time": [],
    }
    put = await put_rules(client, family, RULES)
    assert put.status_code == 200, put.text
    assert put.json()["revision"] == 1
    assert only_rules(put.json()) == RULES
    assert await get_rules(client, family) == put.json()

    again = await put_rules(client, family, {"blocked": ["com.example.casino"]})
    assert again.json()["revision"] == 2
    assert only_rules(again.json()) == {**DEFAULTS, "blocked": ["com.example.casino"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"app_limits": {GAME: {"minutes": 1441}}}, "less than or equal to 1440"),
        ({"app_limits": {GAME: {"minutes": -1}}}, "greater than or equal to 0"),
        ({"total_limit": {"by_weekday": {"someday": 5}}}, None),
        ({"app_limits": {f"com.example.app{i}": {"minutes": 5} for i in range(201)}}, "200"),
        ({"app_limits": {"com.example game": {"minutes": 5}}}, "is not an app id"),
        ({"blocked": [""]}, "is not an app id"),
        ({"downtime": [{"days": ["mon"], "start": "21:00", "end": "07:00"}] * 51}, "51"),
        ({"downtime": [{"days": ["mon"], "start": "25:00", "end": "07:00"}]}, None),
        ({"downtime": [{"days": [], "start": "21:00", "end": "07:00"}]}, None),
        ({"category_limits": {"gambling": {"minutes": 5}}}, None),
        (
            {"blocked": [GAME, CHAT], "always_allowed": [CHAT]},
            f"{CHAT}: an app cannot be both blocked and always allowed",
        ),
        ({"surprise": True}, None),
    ],
)
async def test_invalid_rules_are_refused_and_change_nothing(
    client: httpx.AsyncClient, family: FamilyWorld, change: dict[str, Any], message: str | None
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    before = await get_rules(client, family)
    refused = await put_rules(client, family, {**RULES, **change})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "ValidationError"
    if message is not None:
        assert message in refused.json()["detail"], refused.json()
    assert await get_rules(client, family) == before


async def test_another_familys_guardian_gets_404(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    theirs = other_family.guardian.headers
    for response in (
        await client.get(url(family, "rules"), headers=theirs),
        await client.put(url(family, "rules"), headers=theirs, json=RULES),
        await client.post(
            url(family, "pause"),
            headers=theirs,
            json={"until": (clock.now() + timedelta(hours=1)).isoformat()},
        ),
        await client.delete(url(family, "pause"), headers=theirs),
        await client.post(
            url(family, "extra-time"), headers=theirs, json={"app": GAME, "minutes": 5}
        ),
    ):
        assert (response.status_code, response.json()["error"]) == (404, "ChildNotFound")
    assert (await get_rules(client, family))["revision"] == 0


async def test_nothing_changes_and_no_policy_is_served_once_the_child_is_18(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    assert (await put_rules(client, teen, RULES)).status_code == 200
    assert (await policy(client, teen)).status_code == 200

    clock.advance(timedelta(days=1))
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)  # a day: a new token
    for response in (
        await put_rules(client, teen, DEFAULTS),
        await pause(client, teen, clock.now() + timedelta(hours=1)),
        await extra_time(client, teen, app=GAME, minutes=10),
        await policy(client, teen),
    ):
        assert (response.status_code, response.json()["error"]) == (410, "MonitoringEndedAdult")
    assert (await get_rules(client, teen))["revision"] == 1  # the guardian's own settings
    assert [a for a, _ in await screen_time_events(client, teen)] == ["screen_time.rules_changed"]


async def test_the_child_sees_every_change(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    until = clock.now() + timedelta(hours=2)
    assert (await put_rules(client, family, RULES)).status_code == 200
    assert (await pause(client, family, until)).status_code == 200
    assert (await resume(client, family)).status_code == 204
    assert (await resume(client, family)).status_code == 204  # none on: nothing changes
    assert (await extra_time(client, family, category="games", minutes=20)).status_code == 200
    assert await screen_time_events(client, family) == [
        ("screen_time.rules_changed", {"revision": 1}),
        ("screen_time.paused", {"until": until.isoformat(), "revision": 2}),
        ("screen_time.resumed", {"revision": 3}),
        (
            "screen_time.extra_time",
            {"category": "games", "minutes": 20, "day": "2026-11-25", "revision": 4},
        ),
    ]


@pytest.mark.parametrize("hours", [-1, 0, 7 * 24 + 1])
async def test_a_pause_must_end_within_seven_days(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld, hours: int
) -> None:
    refused = await pause(client, family, clock.now() + timedelta(hours=hours))
    assert refused.status_code == 422, refused.text
    assert refused.json()["issues"][0]["loc"] == ["body", "until"]
    assert (await get_rules(client, family))["paused_until"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"minutes": 10},
        {"app": GAME, "category": "games", "minutes": 10},
        {"app": GAME, "minutes": 0},
        {"app": GAME, "minutes": 241},
        {"app": "not an app", "minutes": 10},
    ],
)
async def test_invalid_extra_time_is_refused(
    client: httpx.AsyncClient, family: FamilyWorld, body: dict[str, Any]
) -> None:
    assert (await extra_time(client, family, **body)).status_code == 422
    assert (await get_rules(client, family))["extra_time"] == []


# --- the device's policy --------------------------------------------------------------------


async def test_an_app_past_its_limit_is_stopped(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    now = clock.now()
    sent = await upload(
        client, family, app(now - timedelta(hours=2), 40), app(now - timedelta(hours=1), 10, CHAT)
    )
    assert sent.json()["accepted"] == 2
    response = await policy(client, family)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["revision"], body["rules"], body["paused_until"]) == (1, RULES, None)
    assert datetime.fromisoformat(body["evaluated_at"]) == now
    apps = body["decision"]["apps"]
    assert apps == {
        GAME: {"allowed": False, "reason": "app_limit", "minutes_left": 0.0},
        CHAT: {"allowed": True, "reason": "allowed", "minutes_left": 50.0},  # 60 on Wednesdays
        PHONE: {"allowed": True, "reason": "always_allowed", "minutes_left": None},
        "com.example.casino": {"allowed": False, "reason": "blocked", "minutes_left": 0.0},
    }
    assert body["decision"]["total_minutes_left"] == 180 - 50
    assert body["decision"]["categories"]["social"] == 90.0  # every app is "other" for now
    # The chat runs out in 50 minutes, before downtime at 21:00.
    assert datetime.fromisoformat(body["decision"]["next_change"]) == now + timedelta(minutes=50)
    assert response.headers["cache-control"] == "no-cache"


async def test_downtime_at_night(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    clock.set(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))  # 22:00 in Almaty
    apps = (await decision(client, family))["apps"]
    assert apps[GAME] == {"allowed": False, "reason": "downtime", "minutes_left": 30.0}
    assert apps[PHONE]["allowed"] is True
    night = await decision(client, family)
    # Midnight first (the day's counters reset), then the end of downtime.
    assert datetime.fromisoformat(night["next_change"]) == datetime(2026, 11, 25, 19, tzinfo=UTC)
    clock.set(datetime(2026, 11, 25, 19, 0, tzinfo=UTC))
    night = await decision(client, family)
    assert night["apps"][GAME]["reason"] == "downtime"
    assert datetime.fromisoformat(night["next_change"]) == datetime(2026, 11, 26, 2, tzinfo=UTC)

    clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # 07:00 on Thursday
    assert (await decision(client, family))["apps"][GAME]["reason"] == "allowed"


async def test_pause_then_resume(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    until = clock.now() + timedelta(hours=1)
    paused = await pause(client, family, until)
    assert paused.status_code == 200, paused.text
    assert datetime.fromisoformat(paused.json()["paused_until"]) == until
    body = (await policy(client, family)).json()
    assert datetime.fromisoformat(body["paused_until"]) == until
    assert body["decision"]["apps"][GAME]["reason"] == "paused"
    assert body["decision"]["apps"][PHONE]["reason"] == "always_allowed"
    assert datetime.fromisoformat(body["decision"]["next_change"]) == until

    assert (await resume(client, family)).status_code == 204
    body = (await policy(client, family)).json()
    assert (body["revision"], body["paused_until"]) == (3, None)
    assert body["decision"]["apps"][GAME]["reason"] == "allowed"

    assert (await pause(client, family, until)).status_code == 200
    clock.advance(timedelta(hours=1))  # the pause ends by itself
    body = (await policy(client, family)).json()
    assert (body["paused_until"], body["decision"]["apps"][GAME]["reason"]) == (None, "allowed")


async def test_extra_time_lifts_a_spent_limit_for_today_only(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    assert (await upload(client, family, app(clock.now() - timedelta(hours=2), 40))).is_success
    assert (await decision(client, family))["apps"][GAME]["reason"] == "app_limit"

    granted = await extra_time(client, family, app=GAME, minutes=15)
    assert granted.status_code == 200, granted.text
    assert [(g["day"], g["app"], g["minutes"]) for g in granted.json()["extra_time"]] == [
        ("2026-11-25", GAME, 15)
    ]
    assert granted.json()["extra_time"][0]["granted_by"] == family.guardian.account_id
    assert (await decision(client, family))["apps"][GAME] == {
        "allowed": True,
        "reason": "allowed",
        "minutes_left": 5.0,  # 30 - 40 + 15
    }

    clock.advance(timedelta(days=1))  # Thursday: the grant was for Wednesday
    assert (await upload(client, family, app(clock.now() - timedelta(hours=2), 40))).is_success
    assert (await decision(client, family))["apps"][GAME] == {
        "allowed": False,
        "reason": "app_limit",
        "minutes_left": 0.0,
    }


async def test_the_etag_answers_304_until_something_changes(
    client: httpx.AsyncClient, family: FamilyWorld, clock: FrozenClock
) -> None:
    first = await policy(client, family)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"')  # strong: no W/

    same = await policy(client, family, etag)
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert (await policy(client, family, f'"other", W/{etag}')).status_code == 304
    clock.advance(timedelta(minutes=3))  # time alone changes nothing the device enforces
    assert (await policy(client, family, etag)).status_code == 304

    assert (await put_rules(client, family, RULES)).status_code == 200
    changed = await policy(client, family, etag)
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["revision"] == 1
