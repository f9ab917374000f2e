"""The child's transparency feed: what is collected now and why not, the consents in force,
and every guardian action on the child's data with who and when, in the child's language;
nothing in the API can leave an entry out."""

from __future__ import annotations

from typing import Any, get_args

import httpx
import pytest

from parental.app import create_app
from parental.consent import texts
from parental.i18n import Locale
from parental.kit.clock import FrozenClock
from parental.kit.phone import mask
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.parental.factories import FamilyWorld
from tests.parental.test_consent import HARM, set_consent, upload_fix, upload_messages
from tests.parental.test_conversations_ingest import message

FEED = "/v1/device/transparency"


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(command_listen_guardian_min_hours=0)


async def feed(
    client: httpx.AsyncClient, family: FamilyWorld, language: str | None = None, **params: Any
) -> dict[str, Any]:
    headers = dict(family.device_headers)
    if language is not None:
        headers["Accept-Language"] = language
    response = await client.get(FEED, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def every_guardian_action(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    """Location viewed (the route and its fast path), history viewed, excerpt and transcript
    read, a listening session, a ring, and policy changes (filter and screen time)."""
    guardian, child = family.guardian.headers, f"/v1/children/{family.child_id}"
    assert (await upload_fix(client, family, clock.now())).status_code == 200
    for _ in range(2):  # the second read is answered from the read grant
        assert (await client.get(f"{child}/location", headers=guardian)).status_code == 200
    assert (await client.get(f"{child}/locations", headers=guardian)).status_code == 200
    sent = await upload_messages(client, family, message(clock, 1, text=HARM))
    assert sent.json()["accepted"] == 1, sent.text
    [alert] = (await client.get(f"{child}/message-alerts", headers=guardian)).json()["items"]
    excerpt = await client.get(f"{child}/message-alerts/{alert['id']}", headers=guardian)
    assert excerpt.status_code == 200, excerpt.text
    none = {"label": "drugs"}  # a list without excerpts: looked, read nothing
    assert (await client.get(f"{child}/message-alerts", headers=guardian, params=none)).is_success
    chat = f"{child}/conversations/{alert['conversation']}/messages"
    assert (await client.get(chat, headers=guardian)).status_code == 200
    harm = {"label": "self_harm"}
    assert (await client.get(f"{child}/messages", headers=guardian, params=harm)).is_success
    for kind in ("listen", "ring"):
        given = await client.post(f"{child}/commands", headers=guardian, json={"kind": kind})
        assert given.status_code == 201, given.text
    profile = {"categories": {"gambling": {"mode": "off"}}}
    changed = await client.patch(f"{child}/filter-profile", headers=guardian, json=profile)
    assert changed.status_code == 200, changed.text
    rules = {"blocked": ["com.example.game"], "total_limit": {"minutes": 60}}
    put = await client.put(f"{child}/screen-time/rules", headers=guardian, json=rules)
    assert put.status_code == 200, put.text


GUARDIAN_ACTIONS = {
    "location.viewed",
    "location.history_viewed",
    "messages.alerts_viewed",
    "messages.excerpt_viewed",
    "messages.transcript_viewed",
    "messages.label_searched",
    "command.listen",
    "command.ring",
    "filter.profile_updated",
    "screen_time.rules_changed",
}


async def test_every_guardian_action_is_in_the_feed_with_who_and_when(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    await every_guardian_action(client, clock, family)
    body = await feed(client, family, "en", limit=100)
    entries = body["entries"]
    by_guardian = [e for e in entries if e["who"]["type"] == "guardian"]
    assert {e["action"] for e in by_guardian} >= GUARDIAN_ACTIONS
    assert sum(e["action"] == "location.viewed" for e in entries) == 2  # the fast path's too
    parent = f"Parent ({mask(family.guardian.phone)})"
    for entry in by_guardian:
        assert entry["who"] == {
            "type": "guardian",
            "id": family.guardian.account_id,
            "name": parent,
        }
        assert entry["text"].startswith(parent), entry
        assert entry["at"] == clock.now().isoformat().replace("+00:00", "Z")
    texts_of = {e["action"]: e["text"] for e in by_guardian}
    assert texts_of["messages.excerpt_viewed"] == f"{parent} read an excerpt of your messages"
    assert texts_of["command.listen"].startswith(f"{parent} started a listening session")
    paired = next(e for e in entries if e["action"] == "device.paired")
    assert paired["who"]["name"] == "Your phone"

    # The same rows as the device's audit log, each once, page by page.
    log = await client.get(
        "/v1/device/audit-events", headers=family.device_headers, params={"limit": 100}
    )
    assert [e["id"] for e in entries] == [e["id"] for e in log.json()["items"]]
    seen, cursor = [], None
    while True:
        page = await feed(client, family, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [e["id"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in entries]


def test_the_feed_has_nothing_that_could_hide_an_entry() -> None:
    operation = create_app().openapi()["paths"][FEED]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"limit", "cursor", "accept-language"}


async def test_the_feed_speaks_the_childs_language(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    child = f"/v1/children/{family.child_id}"
    assert (await upload_fix(client, family, clock.now())).status_code == 200
    viewed = await client.get(f"{child}/locations", headers=family.guardian.headers)
    assert viewed.status_code == 200
    phone = mask(family.guardian.phone)
    expected = {
        "ru": f"Родитель ({phone}): просмотр истории твоих перемещений",
        "kk": f"Ата-ана ({phone}): сенің жүрген жерлеріңнің тарихын қарады",
        "en": f"Parent ({phone}) looked at where you have been",
    }
    for header, locale in [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("en", "en"),
        (None, "kk"),  # the service's default
        ("de, ru;q=0.5", "ru"),
        ("en;q=0.1, kk", "kk"),
        ("fr, de", "kk"),
    ]:
        body = await feed(client, family, header)
        assert body["locale"] == locale, header
        [entry] = [e for e in body["entries"] if e["action"] == "location.history_viewed"]
        assert entry["text"] == expected[locale]


async def test_what_is_collected_and_why_not(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], family: FamilyWorld
) -> None:
    body = await feed(client, family)
    assert body["monitoring"]["active"] is True
    monitored = body["monitored"]
    for feature in ("location", "app_usage", "listening"):
        assert monitored[feature] == {"on": True, "reasons": []}
    assert monitored["messages"] == {"mode": "transcripts", "reasons": []}  # the child is 11
    blocked = {c["category"]: c["mode"] for c in monitored["filter_categories"]}
    assert blocked["gambling"] == "always"
    assert all(mode in ("always", "scheduled") for mode in blocked.values())
    assert {p["purpose"] for p in body["consents"]["purposes"]} == {
        "location",
        "app_usage",
        "messages",
        "listening",
    }

    for purpose in ("location", "messages"):
        assert (await set_consent(client, family, purpose, False)).status_code == 200
    monitored = (await feed(client, family))["monitored"]
    assert monitored["location"] == {"on": False, "reasons": ["no_guardian_consent"]}
    assert monitored["messages"] == {"mode": "off", "reasons": ["no_guardian_consent"]}
    mode = await client.get("/v1/device/messages/mode", headers=family.device_headers)
    assert mode.json()["mode"] == "off"  # the same answer as the mode route
    assert monitored["app_usage"]["on"] is True

    # The carrier ends the child SIM: nothing is collected, and the child is told why.
    ended = await client.put(
        f"/carrier/v1/lines/{family.line}",
        headers=carrier,
        json={"guardian_phone": family.guardian.phone, "is_child_sim": False},
    )
    assert ended.status_code == 200, ended.text
    body = await feed(client, family)
    assert body["monitoring"]["active"] is False
    assert body["monitored"]["app_usage"] == {"on": False, "reasons": ["monitoring_inactive"]}
    assert body["monitored"]["listening"]["reasons"] == ["monitoring_inactive"]


class TestAnAgeTheCarrierDoesNotOfferListeningTo:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(command_listen_age_bands=["under_9"])

    async def test_listening_is_shown_off(
        self, client: httpx.AsyncClient, family: FamilyWorld
    ) -> None:
        listening = (await feed(client, family))["monitored"]["listening"]  # the child is 11
        assert listening == {"on": False, "reasons": ["not_for_this_age"]}


def test_every_action_text_is_there_in_every_language() -> None:
    locales: tuple[Locale, ...] = get_args(Locale)
    for action in [*texts.ACTIONS, "location.something_new", "unheard.of"]:
        for locale in locales:
            line = texts.describe(action, locale, who="W", purpose="messages")
            assert line.startswith("W"), (action, locale)
            assert "{" not in line, (action, locale)
    assert texts.describe("unheard.of", "en", who="W") == "W: unheard.of"
