"""The app catalogue through the admin API: curators and admins create, replace, read, search
and delete rows and import thousands at once (a verdict per item, the valid ones stored), every
change audited as theirs; bad input changes nothing; parent and device tokens get 401.

The ids used here are ``org.example.*``: none is in the starter catalogue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from telemetry.usage.catalogue.service import encode_cursor
from tests.parental.factories import FamilyWorld, staff_headers

API = "/admin/v1/apps"
GAME = "org.example.game"


async def put_app(
    client: httpx.AsyncClient, headers: dict[str, str], app: str, **body: Any
) -> httpx.Response:
    return await client.put(
        f"{API}/{app}", headers=headers, json={"name": "Example", "category": "games", **body}
    )


async def get_app(client: httpx.AsyncClient, headers: dict[str, str], app: str) -> httpx.Response:
    return await client.get(f"{API}/{app}", headers=headers)


async def search(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(API, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def catalogue_events(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    page = await client.get("/admin/v1/audit-events?limit=100", headers=headers)
    assert page.status_code == 200, page.text
    found = [e for e in page.json()["items"] if e["action"].startswith("app_catalogue.")]
    return sorted(found, key=lambda e: datetime.fromisoformat(e["occurred_at"]))


async def test_a_curator_creates_reads_replaces_and_deletes_an_app(
    client: httpx.AsyncClient, clock: FrozenClock, staff: dict[str, str]
) -> None:
    assert (await get_app(client, staff, GAME)).json()["error"] == "AppNotInCatalogue"

    created = await put_app(client, staff, GAME, name="Example  Game", note="a block game")
    assert created.status_code == 201, created.text
    me = (await client.get("/admin/v1/me", headers=staff)).json()["id"]
    body = created.json()
    assert body == {
        "app": GAME,
        "name": "Example Game",
        "category": "games",
        "always_allowed": False,
        "note": "a block game",
        "updated_at": body["updated_at"],
        "updated_by": me,
    }
    assert datetime.fromisoformat(body["updated_at"]) == clock.now()
    assert (await get_app(client, staff, GAME)).json() == body

    clock.advance(timedelta(minutes=1))
    replaced = await put_app(client, staff, GAME, name="Example Game", category="education")
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["category"], replaced.json()["note"]) == ("education", None)
    assert datetime.fromisoformat(replaced.json()["updated_at"]) == clock.now()

    clock.advance(timedelta(minutes=1))
    assert (await client.delete(f"{API}/{GAME}", headers=staff)).status_code == 204
    gone = await get_app(client, staff, GAME)
    assert (gone.status_code, gone.json()["error"]) == (404, "AppNotInCatalogue")
    again = await client.delete(f"{API}/{GAME}", headers=staff)
    assert (again.status_code, again.json()["error"]) == (404, "AppNotInCatalogue")

    events = await catalogue_events(client, staff)
    assert [(e["action"], e["actor_type"], e["actor_id"], e["subject_id"]) for e in events] == [
        ("app_catalogue.app_saved", "staff", me, GAME),
        ("app_catalogue.app_saved", "staff", me, GAME),
        ("app_catalogue.app_deleted", "staff", me, GAME),
    ]
    assert events[0]["details"] == {
        "name": "Example Game",
        "category": "games",
        "always_allowed": False,
        "note": "a block game",
        "previous": None,
    }
    assert events[1]["details"]["previous"] == {
        "name": "Example Game",
        "category": "games",
        "always_allowed": False,
        "note": "a block game",
    }
    assert events[2]["details"] == {
        "name": "Example Game",
        "category": "education",
        "always_allowed": False,
        "note": None,
    }


async def test_an_admin_edits_too(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await staff_headers(client, runtime, username="boss", role="admin")
    assert (await put_app(client, admin, GAME)).status_code == 201


@pytest.mark.parametrize(
    ("app", "body"),
    [
        (GAME, {"name": "Game", "category": "gambling"}),
        (GAME, {"name": "Game", "category": "games", "surprise": 1}),
        (GAME, {"name": " \u0000 ", "category": "games"}),
        (GAME, {"name": "", "category": "games"}),
        (GAME, {"name": "n" * 256, "category": "games"}),
        (GAME, {"name": "Game", "category": "games", "note": "n" * 501}),
        (GAME, {"category": "games"}),
        (GAME, {"name": "Game", "category": "games", "always_allowed": "yes"}),
        (GAME, {"name": "Game", "category": "games", "always_allowed": 1}),
        ("org.example%20game", {"name": "Game", "category": "games"}),
        ("x" * 256, {"name": "Game", "category": "games"}),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, staff: dict[str, str], app: str, body: dict[str, Any]
) -> None:
    assert (await put_app(client, staff, GAME, name="Before")).status_code == 201
    refused = await client.put(f"{API}/{app}", headers=staff, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "RequestValidationError" or refused.json()["issues"]
    assert (await get_app(client, staff, GAME)).json()["name"] == "Before"
    assert len(await catalogue_events(client, staff)) == 1


async def test_search_by_text_and_category_in_pages(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    rows = {
        "org.example.alpha": ("Alpha Quest", "games"),
        "org.example.beta": ("Beta Chat", "messaging"),
        "org.example.gamma": ("Gamma QUEST", "games"),
        "org.example.delta": ("Delta", "games"),
        "org.example.pct": ("100%_sure", "other"),
    }
    for app, (name, category) in rows.items():
        assert (await put_app(client, staff, app, name=name, category=category)).is_success

    def apps(page: Any) -> list[str]:
        return [item["app"] for item in page["items"]]

    assert apps(await search(client, staff, q="quest")) == [
        "org.example.alpha",
        "org.example.gamma",
    ]
    assert apps(await search(client, staff, q="EXAMPLE.BE")) == ["org.example.beta"]
    assert apps(await search(client, staff, q="%_")) == ["org.example.pct"]  # literal
    assert apps(await search(client, staff, q="0%x")) == []
    assert apps(await search(client, staff, q="org.example", category="games")) == [
        "org.example.alpha",
        "org.example.delta",
        "org.example.gamma",
    ]

    seen: list[str] = []
    params: dict[str, Any] = {"q": "org.example", "limit": 2}
    while True:
        page = await search(client, staff, **params)
        assert len(page["items"]) <= 2
        seen += apps(page)
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == sorted(rows)

    for bad in ("!!!", encode_cursor("a b")):
        refused = await client.get(API, headers=staff, params={"cursor": bad})
        assert (refused.status_code, refused.json()["error"]) == (400, "InvalidCursor")
    wrong = await client.get(API, headers=staff, params={"category": "gambling"})
    assert wrong.status_code == 422


async def test_an_import_stores_the_valid_items_and_says_what_became_of_each(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    assert (await put_app(client, staff, "org.example.same", name="Same")).is_success
    assert (await put_app(client, staff, "org.example.old", name="Old")).is_success
    items = [
        {"app": "org.example.new", "name": "New", "category": "video"},
        {"app": "org.example.same", "name": "Same", "category": "games"},
        {"app": "org.example.old", "name": "Renamed", "category": "games", "note": "why"},
        {"app": "org.example bad", "name": "Bad", "category": "games"},
        {"app": "org.example.cat", "name": "Cat", "category": "gambling"},
        {"app": "org.example.noname", "name": "  ", "category": "games"},
        {"app": "org.example.note", "name": "Note", "category": "games", "note": "n" * 501},
        {"app": "org.example.new", "name": "New again", "category": "social"},
    ]
    response = await client.post(f"{API}/import", headers=staff, json={"items": items})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (1, 1, 1, 5)
    assert [(i["index"], i["app"], i["status"], i["reason"]) for i in body["items"]] == [
        (0, "org.example.new", "created", None),
        (1, "org.example.same", "unchanged", None),
        (2, "org.example.old", "updated", None),
        (3, "org.example bad", "rejected", "invalid_app"),
        (4, "org.example.cat", "rejected", "invalid_category"),
        (5, "org.example.noname", "rejected", "invalid_name"),
        (6, "org.example.note", "rejected", "invalid_note"),
        (7, "org.example.new", "rejected", "duplicate"),
    ]
    new = (await get_app(client, staff, "org.example.new")).json()
    assert (new["name"], new["category"]) == ("New", "video")
    old = (await get_app(client, staff, "org.example.old")).json()
    assert (old["name"], old["note"]) == ("Renamed", "why")
    for app in ("org.example.cat", "org.example.noname", "org.example.note"):
        assert (await get_app(client, staff, app)).status_code == 404

    events = await catalogue_events(client, staff)
    assert [e["action"] for e in events].count("app_catalogue.imported") == 1
    imported = next(e for e in events if e["action"] == "app_catalogue.imported")
    assert imported["details"] == {"created": 1, "updated": 1, "unchanged": 1, "rejected": 5}


async def test_a_curator_marks_an_app_always_allowed_by_a_put_or_an_import(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    """A row written without the mark is not always allowed (``PUT`` is whole); an import
    sets it per item, and a mark alone changing is an update."""
    marked = await put_app(client, staff, GAME, category="other", always_allowed=True)
    assert (marked.status_code, marked.json()["always_allowed"]) == (201, True)
    assert (await get_app(client, staff, GAME)).json()["always_allowed"] is True
    plain = await put_app(client, staff, GAME, category="other")
    assert (plain.status_code, plain.json()["always_allowed"]) == (200, False)
    saved = [e["details"] for e in await catalogue_events(client, staff)]
    assert [(d["always_allowed"], d["previous"]) for d in saved if d["previous"]] == [
        (False, {"name": "Example", "category": "other", "always_allowed": True, "note": None})
    ]

    items = [
        {"app": GAME, "name": "Example", "category": "other", "always_allowed": True},
        {"app": "org.example.sos", "name": "SOS", "category": "other", "always_allowed": True},
        {"app": "org.example.plain", "name": "Plain", "category": "games"},
    ]
    response = await client.post(f"{API}/import", headers=staff, json={"items": items})
    assert response.status_code == 200, response.text
    assert [i["status"] for i in response.json()["items"]] == ["updated", "created", "created"]
    assert [
        (await get_app(client, staff, item["app"])).json()["always_allowed"] for item in items
    ] == [True, True, False]
    refused = await client.post(
        f"{API}/import",
        headers=staff,
        json={"items": [{**items[2], "always_allowed": "true"}]},
    )
    assert refused.status_code == 422, refused.text  # typed strictly: refused whole
    assert (await get_app(client, staff, "org.example.plain")).json()["always_allowed"] is False


async def test_an_import_of_5000_items_is_taken_and_one_more_is_refused_whole(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    items = [
        {"app": f"org.example.app{i}", "name": f"App {i}", "category": "games", "note": "x" * 100}
        for i in range(5001)
    ]
    refused = await client.post(f"{API}/import", headers=staff, json={"items": items})
    assert refused.status_code == 422, refused.text
    assert (await search(client, staff, q="org.example.app"))["items"] == []

    taken = await client.post(f"{API}/import", headers=staff, json={"items": items[:5000]})
    assert taken.status_code == 200, taken.text
    assert taken.json()["created"] == 5000
    again = await client.post(f"{API}/import", headers=staff, json={"items": items[:5000]})
    assert again.json()["unchanged"] == 5000
    assert (await get_app(client, staff, "org.example.app4999")).json()["name"] == "App 4999"


async def test_parent_and_device_tokens_and_no_token_get_401(
    client: httpx.AsyncClient, staff: dict[str, str], family: FamilyWorld
) -> None:
    assert (await put_app(client, staff, GAME)).status_code == 201
    item = {"app": GAME, "name": "Mine", "category": "social"}
    for headers in (family.guardian.headers, family.device_headers, {}):
        for response in (
            await client.get(API, headers=headers),
            await get_app(client, headers, GAME),
            await put_app(client, headers, GAME, name="Mine", category="social"),
            await client.delete(f"{API}/{GAME}", headers=headers),
            await client.post(f"{API}/import", headers=headers, json={"items": [item]}),
        ):
            assert (response.status_code, response.json()["error"]) == (401, "InvalidStaffToken")
    row = (await get_app(client, staff, GAME)).json()
    assert (row["name"], row["category"]) == ("Example", "games")
