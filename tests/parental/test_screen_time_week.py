"""A week of a child's screen time through the API, across the change to summer time: each of
the child's days is checked at five instants of its local time (08:00, after each of two
afternoon sessions, bedtime at 21:30, and 00:30 the next day), and once more at noon on Friday
during a pause.

The child lives in Europe/Berlin (the test is about a zone with daylight saving; Kazakhstan has
none since 2024). The week runs from Thursday 2027-03-25 to Wednesday 2027-03-31; the clocks
go forward on Sunday 2027-03-28 at 02:00 (CET, UTC+1) to 03:00 (CEST, UTC+2), so that day has
23 hours. The guardian's rules: the game 60 minutes a day (120 on Saturday and Sunday), the
whole screen 180 minutes a day, bedtime from 21:00 to 07:00 every night, the phone always
allowed. Each afternoon the child plays 45 minutes, then 30 more, which uses up the weekday
limit (the upload answers ``sync_policy`` and the guardians hear of it once that day); on
Tuesday the child asks for 30 more minutes and the guardian approves, for that day only; on
Friday the guardian pauses everything but the phone for half an hour at noon.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.usage.events import ScreenTimeLimitReached
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_screen_time import decision, pause, put_rules
from tests.parental.test_usage import app, minutes, screen, upload

BERLIN = ZoneInfo("Europe/Berlin")
GAME = "com.example.game"
PHONE = "com.android.dialer"
RULES = {
    "app_limits": {GAME: {"by_weekday": {"sat": 120, "sun": 120}, "otherwise": 60}},
    "total_limit": {"minutes": 180},
    "downtime": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                  "start": "21:00", "end": "07:00"}],
    "always_allowed": [PHONE],
}  # fmt: skip
WEEK = [date(2027, 3, 25) + timedelta(days=n) for n in range(7)]  # Thursday to Wednesday


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def parental_settings() -> ParentalSettings:
    # The guardian's access token outlives the week the test travels through.
    return ParentalSettings(access_token_ttl_seconds=10 * 86_400)


def game(answer: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = answer["apps"][GAME]
    return found


async def test_a_week_of_limits_bedtimes_and_extra_time_across_the_change_to_summer_time(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    told: list[ScreenTimeLimitReached] = []

    async def keep(event: ScreenTimeLimitReached) -> None:
        told.append(event)

    runtime.bus.subscribe(ScreenTimeLimitReached, keep)
    moved = await client.patch(
        f"/v1/children/{family.child_id}",
        headers=family.guardian.headers,
        json={"timezone": "Europe/Berlin"},
    )
    assert moved.status_code == 200, moved.text
    clock.set(local(WEEK[0], 8))
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    assert (await put_rules(client, family, RULES)).status_code == 200

    for day in WEEK:
        weekend = day.weekday() >= 5
        limit = 120 if weekend else 60

        # Morning, before anything is used: the whole day's limits.
        clock.set(local(day, 8))
        morning = await decision(client, family)
        assert game(morning) == {"allowed": True, "reason": "allowed", "minutes_left": limit}
        assert morning["total_minutes_left"] == 180
        # Next: the game runs out if played from now without a break.
        assert instant(morning["next_change"]) == local(day, 8) + timedelta(minutes=limit)

        if day == date(2027, 3, 26):
            # Friday noon: a pause of half an hour stops the game, not the phone.
            clock.set(local(day, 12))
            paused = await pause(client, family, local(day, 12, 30))
            assert paused.status_code == 200, paused.text
            during = await decision(client, family)
            assert game(during) == {"allowed": False, "reason": "paused", "minutes_left": limit}
            assert during["apps"][PHONE]["reason"] == "always_allowed"
            assert instant(during["next_change"]) == local(day, 12, 30)

        # 45 minutes of the game from 16:00.
        clock.set(local(day, 16, 50))
        sent = await upload(client, family, app(local(day, 16), 45), screen(local(day, 16), 45))
        assert sent.status_code == 200, sent.text
        assert game(await decision(client, family))["minutes_left"] == limit - 45

        # 30 more from 17:00: past the weekday limit, not the weekend's.
        clock.set(local(day, 17, 35))
        sent = await upload(client, family, app(local(day, 17), 30), screen(local(day, 17), 30))
        assert sent.status_code == 200, sent.text
        assert sent.json()["sync_policy"] is not weekend  # the weekday limit used up
        after = await decision(client, family)
        if weekend:
            assert game(after) == {"allowed": True, "reason": "allowed", "minutes_left": 45}
        else:
            assert game(after) == {"allowed": False, "reason": "app_limit", "minutes_left": 0}
        assert after["total_minutes_left"] == 180 - 75
        assert after["apps"][PHONE] == {
            "allowed": True,
            "reason": "always_allowed",
            "minutes_left": None,
        }
        assert (await minutes(client, family))[GAME] == 75

        if day == date(2027, 3, 30):
            # Tuesday: the child asks for 30 more minutes, the guardian approves; 15 of them
            # went already (the 75 minutes used were 15 past the limit).
            asked = await client.post(
                "/v1/device/screen-time/requests",
                headers=family.device_headers,
                json={"kind": "extra_time", "app": GAME, "minutes": 30, "message": "one level"},
            )
            assert asked.status_code == 201, asked.text
            approved = await client.post(
                f"/v1/children/{family.child_id}/screen-time/requests/{asked.json()['id']}/decision",
                headers=family.guardian.headers,
                json={"decision": "approve"},
            )
            assert approved.status_code == 200, approved.text
            assert game(await decision(client, family)) == {
                "allowed": True,
                "reason": "allowed",
                "minutes_left": 15,
            }

        # Bedtime: nothing but the phone; the next change is the new day (counters reset).
        clock.set(local(day, 21, 30))
        night = await decision(client, family)
        assert game(night)["allowed"] is False
        assert game(night)["reason"] == "downtime"
        assert night["apps"][PHONE]["allowed"] is True
        tomorrow = day + timedelta(days=1)
        assert instant(night["next_change"]) == local(tomorrow, 0)

        # After midnight: still bedtime, with the new day's minutes, until 07:00 local time
        # whatever the clocks do overnight.
        clock.set(local(tomorrow, 0, 30))
        small_hours = await decision(client, family)
        assert game(small_hours)["reason"] == "downtime"
        assert game(small_hours)["minutes_left"] == (120 if tomorrow.weekday() >= 5 else 60)
        assert instant(small_hours["next_change"]) == local(tomorrow, 7)

    # The guardians heard of the game's limit once each weekday, never at the weekend (120)
    # nor on Tuesday again after the extra time; the total (180) was never used up.
    assert [(e.day, e.limit, e.app, e.minutes) for e in told] == [
        (day, "app", GAME, 60) for day in WEEK if day.weekday() < 5
    ]
    assert {e.timezone for e in told} == {"Europe/Berlin"}

    # The night of the change: bedtime lasted 9 hours of real time, not 10.
    saturday, sunday = date(2027, 3, 27), date(2027, 3, 28)
    assert local(sunday, 7).astimezone(UTC) - local(saturday, 21).astimezone(UTC) == timedelta(
        hours=9
    )
    assert local(sunday, 7).utcoffset() == timedelta(hours=2)

    # The guardian's report of the week: every local date 75 minutes (the Sunday of 23 hours
    # too), nothing the week before.
    clock.set(local(WEEK[-1], 18))
    report = await client.get(
        f"/v1/children/{family.child_id}/usage/report",
        headers=family.guardian.headers,
        params={"days": 7},
    )
    assert report.status_code == 200, report.text
    week = report.json()
    assert (week["first_day"], week["last_day"]) == (str(WEEK[0]), str(WEEK[-1]))
    assert [(d["day"], d["total_minutes"]) for d in week["daily"]] == [
        (str(day), 75) for day in WEEK
    ]
    assert week["total"] == {
        "minutes": 7 * 75,
        "previous_minutes": 0,
        "change_minutes": 7 * 75,
        "change_percent": None,
    }
    assert [(a["app"], a["minutes"]) for a in week["top_apps"]] == [(GAME, 7 * 75)]

    # Tuesday's extra time was for Tuesday only: on Wednesday the limit is 60 again, and
    # Wednesday counts from its own midnight.
    clock.set(local(WEEK[-1], 18))
    assert game(await decision(client, family)) == {
        "allowed": False,
        "reason": "app_limit",
        "minutes_left": 0,
    }


async def test_a_session_across_the_missing_hour_counts_its_real_minutes(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    moved = await client.patch(
        f"/v1/children/{family.child_id}",
        headers=family.guardian.headers,
        json={"timezone": "Europe/Berlin"},
    )
    assert moved.status_code == 200, moved.text
    sunday = date(2027, 3, 28)
    # 01:30 CET to 03:30 CEST is one hour of real time (02:00 to 03:00 does not exist).
    start = local(sunday, 1, 30).astimezone(UTC)
    assert start + timedelta(hours=1) == local(sunday, 3, 30)
    # And from 23:30 on Saturday: half an hour on each day.
    late = local(date(2027, 3, 27), 23, 30).astimezone(UTC)
    clock.set(local(sunday, 4))
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    sent = await upload(
        client,
        family,
        app(start, 60, name=GAME),
        app(late, 60, name="org.example.video"),
    )
    assert sent.status_code == 200, sent.text
    used = await minutes(client, family)
    assert used[GAME] == 60
    assert used["org.example.video"] == 30
