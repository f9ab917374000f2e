"""A guardian's notification preferences through the API (their own only, validated whole,
nothing changed on bad input), and ``deliver_now``: switched off, quiet hours (overnight, across
daylight-saving changes), and the kinds that always go through.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in Asia/Almaty (UTC+5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import delete, select

from parental.auth.models import Account
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications.kinds import BY_NAME, KINDS
from parental.notifications.preferences.models import NotificationPreferencesRow
from parental.notifications.preferences.schemas import QuietHoursWindow, quiet_set
from parental.notifications.preferences.service import (
    Decision,
    Preferences,
    deliver_now,
    of_row,
)
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld

URL = "/v1/notification-preferences"
ALMATY = ZoneInfo("Asia/Almaty")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKNIGHTS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00", "end": "07:00"}
SAVED: dict[str, Any] = {
    "kinds": {"alarm.low_battery": False, "usage.weekly_summary": False, "alarm.sos": True},
    "quiet_hours": [WEEKNIGHTS, {"days": ["sat", "sun"], "start": "23:00", "end": "09:30"}],
    "timezone": "Europe/Berlin",
    "locale": "en",
}


async def get_prefs(client: httpx.AsyncClient, family: FamilyWorld) -> dict[str, Any]:
    response = await client.get(URL, headers=family.guardian.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def put_prefs(
    client: httpx.AsyncClient, family: FamilyWorld, body: dict[str, Any]
) -> httpx.Response:
    return await client.put(URL, headers=family.guardian.headers, json=body)


def enabled(prefs: dict[str, Any]) -> dict[str, bool]:
    return {k["kind"]: k["enabled"] for k in prefs["kinds"]}


# --- the routes ----------------------------------------------------------------------------


async def test_defaults_until_saved(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    me = (await client.get("/v1/me", headers=family.guardian.headers)).json()
    prefs = await get_prefs(client, family)
    assert [k["kind"] for k in prefs["kinds"]] == [k.name for k in KINDS]
    assert all(prefs_kind["enabled"] for prefs_kind in prefs["kinds"])
    sos = next(k for k in prefs["kinds"] if k["kind"] == "alarm.sos")
    assert sos == {
        "kind": "alarm.sos",
        "enabled": True,
        "may_switch_off": False,
        "through_quiet_hours": True,
        "priority": "high",
    }
    assert prefs["quiet_hours"] == []
    assert prefs["timezone"] == "Asia/Almaty"
    assert prefs["locale"] == me["locale"]
    assert prefs["locale_follows_account"] is True
    assert prefs["updated_at"] is None


async def test_save_and_read_back(
    client: httpx.AsyncClient, family: FamilyWorld, clock: FrozenClock
) -> None:
    clock.advance(timedelta(minutes=7))
    response = await put_prefs(client, family, SAVED)
    assert response.status_code == 200, response.text
    prefs = await get_prefs(client, family)
    assert prefs == response.json()
    off = {name for name, on in enabled(prefs).items() if not on}
    assert off == {"alarm.low_battery", "usage.weekly_summary"}
    assert prefs["quiet_hours"] == SAVED["quiet_hours"]
    assert prefs["timezone"] == "Europe/Berlin"
    assert (prefs["locale"], prefs["locale_follows_account"]) == ("en", False)
    assert datetime.fromisoformat(prefs["updated_at"]) == clock.now()

    # Sent whole: what is left out goes back to its default.
    again = await put_prefs(client, family, {"quiet_hours": [WEEKNIGHTS]})
    assert again.status_code == 200, again.text
    prefs = await get_prefs(client, family)
    assert all(enabled(prefs).values())
    assert prefs["timezone"] == "Asia/Almaty"
    assert prefs["locale_follows_account"] is True


async def test_days_are_normalised(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    window = {"days": ["sun", "mon", "sun"], "start": "21:30", "end": "06:45"}
    response = await put_prefs(client, family, {"quiet_hours": [window]})
    assert response.status_code == 200, response.text
    assert response.json()["quiet_hours"] == [window | {"days": ["mon", "sun"]}]


async def test_locale_follows_the_account_until_chosen(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    headers = family.guardian.headers
    assert (await client.patch("/v1/me", headers=headers, json={"locale": "ru"})).status_code == 200
    assert (await get_prefs(client, family))["locale"] == "ru"
    await put_prefs(client, family, {"quiet_hours": []})
    assert (await client.patch("/v1/me", headers=headers, json={"locale": "en"})).status_code == 200
    assert (await get_prefs(client, family))["locale"] == "en"
    await put_prefs(client, family, {"locale": "kk"})
    assert (await client.patch("/v1/me", headers=headers, json={"locale": "ru"})).status_code == 200
    assert (await get_prefs(client, family))["locale"] == "kk"


BAD_BODIES = [
    pytest.param({"kinds": {"alarm.sos": False}}, "alarm.sos cannot be switched off", id="sos"),
    pytest.param(
        {"kinds": {"filter.self_harm": False}}, "filter.self_harm cannot be switched", id="harm"
    ),
    pytest.param({"kinds": {"alarm.nothing": False}}, "not a kind", id="unknown-kind"),
    pytest.param({"kinds": {"alarm.low_battery": "maybe"}}, "", id="not-a-bool"),
    pytest.param({"timezone": "Mars/Olympus"}, "not an IANA time zone", id="zone"),
    pytest.param({"timezone": "../../etc/passwd"}, "not an IANA time zone", id="zone-path"),
    pytest.param({"locale": "de"}, "", id="locale"),
    pytest.param({"quiet_hours": [WEEKNIGHTS | {"start": "24:00"}]}, "", id="hour"),
    pytest.param({"quiet_hours": [WEEKNIGHTS | {"end": "7:00"}]}, "", id="format"),
    pytest.param({"quiet_hours": [WEEKNIGHTS | {"days": []}]}, "", id="no-days"),
    pytest.param({"quiet_hours": [WEEKNIGHTS | {"days": ["someday"]}]}, "", id="day"),
    pytest.param({"quiet_hours": [WEEKNIGHTS] * 15}, "", id="too-many"),
    pytest.param(
        {
            "quiet_hours": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "start": "08:00",
                    "end": "08:00",
                }
            ]
        },
        "cannot cover the whole week",
        id="whole-week",
    ),
    pytest.param({"quiet": []}, "", id="extra-field"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
async def test_bad_input_is_refused_whole_and_changes_nothing(
    client: httpx.AsyncClient, family: FamilyWorld, body: dict[str, Any], message: str
) -> None:
    assert (await put_prefs(client, family, SAVED)).status_code == 200
    before = await get_prefs(client, family)
    response = await put_prefs(client, family, SAVED | body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"
    assert message in response.json()["detail"]
    assert await get_prefs(client, family) == before


async def test_each_guardian_has_their_own(
    client: httpx.AsyncClient, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    assert (await put_prefs(client, family, SAVED)).status_code == 200
    theirs = await get_prefs(client, other_family)
    assert all(enabled(theirs).values())
    assert theirs["quiet_hours"] == []
    assert (await put_prefs(client, other_family, {"locale": "ru"})).status_code == 200
    mine = await get_prefs(client, family)
    assert mine["locale"] == "en"
    assert mine["timezone"] == "Europe/Berlin"


async def test_a_device_cannot_read_or_set_them(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    for method, body in (("GET", None), ("PUT", {"locale": "ru"})):
        response = await client.request(method, URL, headers=family.device_headers, json=body)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "InvalidAccessToken"
    assert (await get_prefs(client, family))["updated_at"] is None


async def test_deleted_with_the_account(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    assert (await put_prefs(client, family, SAVED)).status_code == 200
    account_id = uuid.UUID(family.guardian.account_id)
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(Account).where(Account.id == account_id))
    async with runtime.sessions() as session:
        left = await session.scalars(
            select(NotificationPreferencesRow).where(
                NotificationPreferencesRow.account_id == account_id
            )
        )
        assert left.all() == []


async def test_saved_preferences_decide_as_the_clock_moves(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    body = {"quiet_hours": [WEEKNIGHTS], "kinds": {"alarm.low_battery": False}}
    assert (await put_prefs(client, family, body)).status_code == 200
    async with runtime.sessions() as session:
        account = await session.get(Account, uuid.UUID(family.guardian.account_id))
        assert account is not None
        row = await session.get(NotificationPreferencesRow, account.id)
    prefs = of_row(row, account, "Asia/Almaty")
    assert prefs.zone == ALMATY
    enter, battery = BY_NAME["place.enter"], BY_NAME["alarm.low_battery"]
    assert deliver_now(prefs, enter, clock.now()) == Decision("send")  # 14:00 on Wednesday
    assert deliver_now(prefs, battery, clock.now()) == Decision("drop")
    clock.advance(timedelta(hours=9))  # 23:00 on Wednesday in Almaty
    thursday_7 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert deliver_now(prefs, enter, clock.now()) == Decision("hold", thursday_7)
    assert deliver_now(prefs, BY_NAME["alarm.sos"], clock.now()) == Decision("send")
    clock.set(thursday_7)
    assert deliver_now(prefs, enter, clock.now()) == Decision("send")


# --- deliver_now ---------------------------------------------------------------------------


def prefs_with(
    *windows: dict[str, Any], zone: ZoneInfo = ALMATY, disabled: frozenset[str] = frozenset()
) -> Preferences:
    quiet = quiet_set([QuietHoursWindow.model_validate(w) for w in windows])
    return Preferences(locale="en", zone=zone, quiet=quiet, disabled=disabled)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_overnight_quiet_hours_hold_until_the_morning() -> None:
    prefs = prefs_with(WEEKNIGHTS)
    exit_ = BY_NAME["place.exit"]
    # Tuesday 23:30 -> Wednesday 07:00.
    held = deliver_now(prefs, exit_, local(ALMATY, 2026, 11, 24, 23, 30))
    assert held == Decision("hold", local(ALMATY, 2026, 11, 25, 7, 0))
    assert held.until is not None
    assert held.until.tzinfo is not None
    # After midnight, the hours belong to the window of the day before: Friday night runs into
    # Saturday morning, Sunday night is not quiet.
    saturday = deliver_now(prefs, exit_, local(ALMATY, 2026, 11, 28, 1, 0))
    assert saturday == Decision("hold", local(ALMATY, 2026, 11, 28, 7, 0))
    assert deliver_now(prefs, exit_, local(ALMATY, 2026, 11, 29, 23, 0)) == Decision("send")
    assert deliver_now(prefs, exit_, local(ALMATY, 2026, 11, 30, 6, 59)) == Decision("send")
    # The edges: 22:00 is inside, 07:00 is not.
    assert deliver_now(prefs, exit_, local(ALMATY, 2026, 11, 25, 22, 0)).action == "hold"
    assert deliver_now(prefs, exit_, local(ALMATY, 2026, 11, 26, 7, 0)) == Decision("send")
    assert deliver_now(prefs, exit_, local(ALMATY, 2026, 11, 25, 21, 59)) == Decision("send")


def test_overlapping_windows_hold_until_the_last_ends() -> None:
    prefs = prefs_with(WEEKNIGHTS, {"days": ["thu"], "start": "06:00", "end": "09:00"})
    held = deliver_now(prefs, BY_NAME["place.enter"], local(ALMATY, 2026, 11, 25, 23, 0))
    assert held == Decision("hold", local(ALMATY, 2026, 11, 26, 9, 0))


def test_quiet_hours_across_daylight_saving_changes() -> None:
    prefs = prefs_with(
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "22:00",
            "end": "07:00",
        },
        zone=BERLIN,
    )
    kind = BY_NAME["usage.weekly_summary"]
    # Spring: the night of 28-29 March 2026 is an hour shorter; 07:00 CEST is 05:00 UTC.
    spring = deliver_now(prefs, kind, datetime(2026, 3, 28, 22, 30, tzinfo=UTC))  # 23:30 CET
    assert spring == Decision("hold", datetime(2026, 3, 29, 5, 0, tzinfo=UTC))
    # Autumn: the night of 24-25 October 2026 is an hour longer; 07:00 CET is 06:00 UTC.
    autumn = deliver_now(prefs, kind, datetime(2026, 10, 24, 21, 30, tzinfo=UTC))  # 23:30 CEST
    assert autumn == Decision("hold", datetime(2026, 10, 25, 6, 0, tzinfo=UTC))
    # The same instant read in another zone is another wall-clock time: 23:30 CET is 03:30 in
    # Almaty, quiet there too, but until 07:00 Almaty.
    almaty = prefs_with(
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "22:00",
            "end": "07:00",
        }
    )
    assert deliver_now(almaty, kind, datetime(2026, 3, 28, 22, 30, tzinfo=UTC)) == Decision(
        "hold", datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    )


@pytest.mark.parametrize("name", ["alarm.sos", "place.not_arrived", "filter.self_harm"])
def test_some_kinds_always_go_through_quiet_hours(name: str) -> None:
    prefs = prefs_with(WEEKNIGHTS)
    assert deliver_now(prefs, BY_NAME[name], local(ALMATY, 2026, 11, 24, 23, 30)) == Decision(
        "send"
    )


def test_switched_off_kinds_are_dropped_but_sos_and_self_harm_never() -> None:
    disabled = frozenset(
        {"alarm.low_battery", "place.not_arrived", "alarm.sos", "filter.self_harm"}
    )
    prefs = prefs_with(WEEKNIGHTS, disabled=disabled)
    noon = local(ALMATY, 2026, 11, 25, 12, 0)
    night = local(ALMATY, 2026, 11, 25, 23, 0)
    for at in (noon, night):
        assert deliver_now(prefs, BY_NAME["alarm.low_battery"], at) == Decision("drop")
        # "Not arrived" goes through quiet hours only while the guardian wants it at all.
        assert deliver_now(prefs, BY_NAME["place.not_arrived"], at) == Decision("drop")
        # A stored list that names them (it cannot be saved through the API) is ignored.
        assert deliver_now(prefs, BY_NAME["alarm.sos"], at) == Decision("send")
        assert deliver_now(prefs, BY_NAME["filter.self_harm"], at) == Decision("send")
    assert deliver_now(prefs, BY_NAME["alarm.sim_moved"], noon) == Decision("send")


def test_no_quiet_hours_sends_everything_switched_on() -> None:
    prefs = Preferences(locale="kk", zone=ALMATY)
    at = local(ALMATY, 2026, 11, 25, 3, 0)
    assert {deliver_now(prefs, kind, at) for kind in KINDS} == {Decision("send")}


def test_a_naive_time_is_refused() -> None:
    naive = datetime.fromisoformat("2026-11-25T03:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        deliver_now(Preferences(locale="en", zone=ALMATY), KINDS[0], naive)
