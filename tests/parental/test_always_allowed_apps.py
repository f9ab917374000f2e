"""The apps the catalogue marks always allowed (the phone, SMS, emergency, maps) through the API:
every child's device policy allows them through a pause, downtime and every limit, even when a
guardian blocked them or declined their install; curators mark more through the admin API; the
guardian's own always-allowed apps still add to them; the limit watch leaves them alone.

The shipped catalogue's marked rows are stored first (``shipped_marks``): PostgreSQL's test
databases start with an empty catalogue. The clock starts on Wednesday 2026-11-25 at 09:00 UTC,
14:00 in the child's Asia/Almaty."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.usage.catalogue import repository
from tests.parental.factories import FamilyWorld
from tests.parental.test_app_catalogue_admin import put_app
from tests.parental.test_screen_time import decision, pause, policy, put_rules
from tests.parental.test_screen_time_requests import answer, ask_install, long_tokens
from tests.parental.test_usage import app, screen, upload

ALMATY = ZoneInfo("Asia/Almaty")
DIALER, SMS, MAPS = "com.android.dialer", "com.google.android.apps.messaging", "com.apple.Maps"
GAME, SOS, CHAT = "com.example.game", "org.example.sos", "org.example.chat"
ALWAYS = {"allowed": True, "reason": "always_allowed", "minutes_left": None}


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return long_tokens()


@pytest.fixture(autouse=True)
async def shipped_marks(runtime: Runtime) -> None:
    """The rows the shipped catalogue marks always allowed, as the migrations store them."""
    text = resources.files("telemetry.usage.catalogue").joinpath("data/app_catalogue.csv")
    rows = [
        {
            "app": row["app"],
            "name": row["name"],
            "category": row["category"],
            "always_allowed": True,
            "note": None,
            "updated_at": runtime.clock.now(),
            "updated_by": None,
        }
        for row in csv.DictReader(text.read_text(encoding="utf-8").splitlines())
        if row["always_allowed"] == "true"
    ]
    assert {DIALER, SMS, MAPS} <= {row["app"] for row in rows}
    async with transaction(runtime.sessions) as session:
        await repository.upsert(session, rows)


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 25, hour, minute, tzinfo=ALMATY)


async def used(client: httpx.AsyncClient, family: FamilyWorld, *apps: str) -> None:
    """A minute of each app this morning, so the device's policy lists them."""
    sessions = [app(local(8, i), 1, name) for i, name in enumerate(apps)]
    assert (await upload(client, family, *sessions)).status_code == 200


async def test_the_phone_sms_and_maps_stay_allowed_in_a_pause_downtime_and_past_limits(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    await used(client, family, DIALER, SMS, MAPS, GAME)
    rules = {
        "total_limit": {"minutes": 120},
        "category_limits": {"messaging": {"minutes": 0}},  # the SMS app's category
        "downtime": [{"days": ["wed"], "start": "15:00", "end": "16:00"}],
    }
    assert (await put_rules(client, family, rules)).status_code == 200
    assert (await pause(client, family, clock.now() + timedelta(minutes=30))).status_code == 200

    paused = (await decision(client, family))["apps"]
    assert paused[GAME]["reason"] == "paused"
    assert {name: paused[name] for name in (DIALER, SMS, MAPS)} == dict.fromkeys(
        (DIALER, SMS, MAPS), ALWAYS
    )

    clock.set(local(15, 30))  # the pause is over, downtime is on
    bedtime = (await decision(client, family))["apps"]
    assert bedtime[GAME]["reason"] == "downtime"
    assert bedtime[DIALER] == bedtime[SMS] == bedtime[MAPS] == ALWAYS

    clock.set(local(16, 30))  # after downtime, the whole day's screen time used up
    assert (await upload(client, family, screen(local(14, 10), 130))).status_code == 200
    spent = (await decision(client, family))["apps"]
    assert spent[GAME]["reason"] == "total_limit"
    assert spent[DIALER] == spent[SMS] == spent[MAPS] == ALWAYS


async def test_a_guardian_blocking_the_phone_or_declining_maps_does_not_stop_them(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    """A child must be able to call for help: the catalogue's mark wins over the guardian's
    block and a declined install, and the guardian's rules stay as set."""
    await used(client, family, DIALER, GAME)
    blocked = await put_rules(client, family, {"blocked": [DIALER, GAME]})
    assert blocked.status_code == 200, blocked.text
    asked = await ask_install(client, family, MAPS)
    assert asked.status_code == 201, asked.text
    assert (await answer(client, family, asked.json()["id"], decision="decline")).is_success

    body = (await policy(client, family)).json()
    assert body["rules"]["blocked"] == [DIALER, GAME]
    assert body["installs"] == {MAPS: "declined"}
    apps = body["decision"]["apps"]
    assert apps[DIALER] == apps[MAPS] == ALWAYS
    assert apps[GAME] == {"allowed": False, "reason": "blocked", "minutes_left": 0.0}


async def test_a_curator_marks_an_app_and_the_guardians_own_list_still_adds(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld, staff: dict[str, str]
) -> None:
    await used(client, family, SOS, CHAT, GAME)
    rules = {"always_allowed": [CHAT]}
    assert (await put_rules(client, family, rules)).status_code == 200
    assert (await pause(client, family, clock.now() + timedelta(hours=1))).status_code == 200
    before = (await decision(client, family))["apps"]
    assert (before[SOS]["reason"], before[CHAT], before[GAME]["reason"]) == (
        "paused",
        ALWAYS,
        "paused",
    )

    marked = await put_app(client, staff, SOS, name="SOS", category="other", always_allowed=True)
    assert marked.status_code == 201, marked.text
    after = (await decision(client, family))["apps"]
    assert (after[SOS], after[CHAT], after[GAME]["reason"]) == (ALWAYS, ALWAYS, "paused")

    unmarked = await put_app(client, staff, SOS, name="SOS", category="other")
    assert unmarked.status_code == 200, unmarked.text
    assert (await decision(client, family))["apps"][SOS]["reason"] == "paused"


async def test_a_limit_on_an_always_allowed_app_is_never_reached(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    limited = await put_rules(client, family, {"app_limits": {DIALER: {"minutes": 10}}})
    assert limited.status_code == 200, limited.text
    body = (await upload(client, family, app(local(9), 20, DIALER))).json()
    assert (body["accepted"], body["sync_policy"]) == (1, False)
    assert (await decision(client, family))["apps"][DIALER] == ALWAYS
