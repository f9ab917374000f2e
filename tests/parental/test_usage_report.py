"""The guardian's usage report through the API: 7 and 30 local days against as many before,
per app, category and in total, the daily trend and the most used apps; audited for the
child, refused to other families and once monitoring ends, and bad input refused.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in the child's Asia/Almaty
(UTC+5): the 7 days are the 19th to the 25th, the 7 before the 12th to the 18th."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_locations import minor_turning_18_tomorrow
from tests.parental.test_usage import app, screen, upload

ALMATY = ZoneInfo("Asia/Almaty")
TODAY = date(2026, 11, 25)
GAME, CHAT, VIDEO = "test.report.game", "test.report.chat", "test.report.video"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ALMATY)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


async def report(client: httpx.AsyncClient, family: FamilyWorld, days: Any = 7) -> httpx.Response:
    return await client.get(
        f"/v1/children/{family.child_id}/usage/report",
        headers=family.guardian.headers,
        params={"days": days},
    )


async def usage_audit(client: httpx.AsyncClient, family: FamilyWorld) -> list[dict[str, Any]]:
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert events.status_code == 200, events.text
    return [e["details"] for e in events.json()["items"] if e["action"] == "usage.viewed"]


async def test_a_week_against_the_week_before(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    sent = await upload(
        client,
        family,
        app(local(TODAY, 10), 30, GAME, app_name="Game"),
        app(local(ago(5), 18), 20, CHAT, app_name="Chat"),
        screen(local(TODAY, 9, 50), 60),  # 09:50 to 10:50: the game within
        app(local(ago(10), 12), 60, GAME, app_name="Game"),
        app(local(ago(10), 16), 10, VIDEO, app_name="Video"),
        app(local(ago(20), 12), 99, VIDEO),  # before both periods
    )
    assert sent.json()["accepted"] == 6, sent.text
    response = await report(client, family)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("days", "timezone", "first_day", "last_day")} == {
        "days": 7,
        "timezone": "Asia/Almaty",
        "first_day": "2026-11-19",
        "last_day": "2026-11-25",
    }
    assert (body["previous_first_day"], body["previous_last_day"]) == ("2026-11-12", "2026-11-18")
    assert body["total"] == {
        "minutes": 80.0,
        "previous_minutes": 70.0,
        "change_minutes": 10.0,
        "change_percent": pytest.approx(100 / 7),
    }
    assert [(a["app"], a["name"], a["minutes"], a["previous_minutes"]) for a in body["apps"]] == [
        (GAME, "Game", 30.0, 60.0),
        (CHAT, "Chat", 20.0, 0.0),
        (VIDEO, "Video", 0.0, 10.0),
    ]
    chat = body["apps"][1]
    assert (chat["change_minutes"], chat["change_percent"]) == (20.0, None)
    assert body["apps"][0]["change_percent"] == -50.0
    assert all(a["category"] == "other" for a in body["apps"])
    assert body["categories"] == [
        {
            "category": "other",
            "minutes": 50.0,
            "previous_minutes": 70.0,
            "change_minutes": -20.0,
            "change_percent": pytest.approx(-200 / 7),
        }
    ]
    assert [(d["day"], d["total_minutes"]) for d in body["daily"]] == [
        (ago(n).isoformat(), {5: 20.0, 0: 60.0}.get(n, 0.0)) for n in range(6, -1, -1)
    ]
    assert body["daily"][-1]["categories"] == {"other": 30.0}
    assert [(d["day"], d["total_minutes"]) for d in body["previous_daily"]] == [
        (ago(n).isoformat(), 70.0 if n == 10 else 0.0) for n in range(13, 6, -1)
    ]
    assert body["top_apps"] == [
        {"app": GAME, "name": "Game", "category": "other", "minutes": 30.0, "share": 0.6},
        {"app": CHAT, "name": "Chat", "category": "other", "minutes": 20.0, "share": 0.4},
    ]


async def test_thirty_days_and_today_alone(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    sent = await upload(
        client,
        family,
        app(local(TODAY, 8), 15, GAME),
        app(local(ago(29), 23, 50), 20, GAME),  # 10 on the first of the 30 days, 10 on the 2nd
        app(local(ago(30), 12), 45, CHAT),  # the last day of the 30 before
        app(local(ago(1), 12), 5, CHAT),
    )
    assert sent.json()["accepted"] == 4, sent.text
    month = (await report(client, family, 30)).json()
    assert (month["first_day"], month["last_day"]) == (ago(29).isoformat(), TODAY.isoformat())
    assert month["previous_first_day"] == ago(59).isoformat()
    assert len(month["daily"]) == len(month["previous_daily"]) == 30
    series = {d["day"]: d["total_minutes"] for d in month["daily"] if d["total_minutes"]}
    assert series == {
        ago(29).isoformat(): 10.0,
        ago(28).isoformat(): 10.0,
        ago(1).isoformat(): 5.0,
        TODAY.isoformat(): 15.0,
    }
    assert (month["total"]["minutes"], month["total"]["previous_minutes"]) == (40.0, 45.0)

    today = (await report(client, family, 1)).json()
    assert (today["first_day"], today["last_day"], today["previous_last_day"]) == (
        TODAY.isoformat(),
        TODAY.isoformat(),
        ago(1).isoformat(),
    )
    assert (today["total"]["minutes"], today["total"]["previous_minutes"]) == (15.0, 5.0)


async def test_the_top_ten_apps_with_their_share(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    apps = [f"test.report.app{n:02}" for n in range(12)]
    sent = await upload(
        client, family, *(app(local(ago(n % 6 + 1), 9 + n), 5 + n, a) for n, a in enumerate(apps))
    )
    assert sent.json()["accepted"] == 12, sent.text
    top = (await report(client, family)).json()["top_apps"]
    app_time = sum(5 + n for n in range(12))
    assert [(t["app"], t["minutes"]) for t in top] == [(apps[n], 5.0 + n) for n in range(11, 1, -1)]
    assert [t["share"] for t in top] == pytest.approx(
        [(5 + n) / app_time for n in range(11, 1, -1)]
    )


async def test_empty_periods(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    body = (await report(client, family, 30)).json()
    assert body["total"] == {
        "minutes": 0.0,
        "previous_minutes": 0.0,
        "change_minutes": 0.0,
        "change_percent": None,
    }
    assert (body["apps"], body["categories"], body["top_apps"]) == ([], [], [])
    assert {d["total_minutes"] for d in body["daily"] + body["previous_daily"]} == {0.0}


async def test_the_child_sees_that_the_guardian_looked(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    assert (await report(client, family)).status_code == 200
    assert (await report(client, family, 30)).status_code == 200
    seen = await usage_audit(client, family)  # one instant: in no particular order
    assert sorted(seen, key=lambda details: int(details["days"])) == [
        {"days": 7, "from": ago(6).isoformat(), "to": TODAY.isoformat()},
        {"days": 30, "from": ago(29).isoformat(), "to": TODAY.isoformat()},
    ]


@pytest.mark.parametrize("days", [0, 14, 31, "week", -7])
async def test_a_period_other_than_1_7_or_30_days_is_refused(
    client: httpx.AsyncClient, family: FamilyWorld, days: Any
) -> None:
    response = await report(client, family, days)
    assert response.status_code == 422, response.text
    assert await usage_audit(client, family) == []


async def test_another_familys_guardian_and_a_device_get_nothing(
    client: httpx.AsyncClient, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    theirs = await client.get(
        f"/v1/children/{family.child_id}/usage/report", headers=other_family.guardian.headers
    )
    assert (theirs.status_code, theirs.json()["error"]) == (404, "ChildNotFound")
    device = await client.get(
        f"/v1/children/{family.child_id}/usage/report", headers=family.device_headers
    )
    assert device.status_code == 401, device.text
    assert await usage_audit(client, family) == []


async def test_nothing_is_shown_once_the_child_is_18(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    assert (await upload(client, teen, app(clock.now() - timedelta(hours=1), 5))).is_success
    assert (await report(client, teen)).status_code == 200

    clock.advance(timedelta(days=1))
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)  # a day: a new token
    refused = await report(client, teen)
    assert (refused.status_code, refused.json()["error"]) == (410, "MonitoringEndedAdult")
    assert len(await usage_audit(client, teen)) == 1  # the read before the birthday only
