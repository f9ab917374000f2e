"""Curating the conversation-risk lexicon over HTTP with a staff token: drafts (a bad lexicon is
refused with its problems and stores nothing), publishing, what the classifier in force finds
before and after, comparison, rollback, explanation, who may call, and the audit rows every
change leaves. Runs on SQLite and on PostgreSQL + Redis like the rest of the suite."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from parental.runtime import Runtime
from telemetry.conversations.classify import default_lexicon, labels_of
from telemetry.conversations.lexicons import in_force
from telemetry.conversations.lexicons.cache import LexiconCache, lexicon_cache
from tests.parental.factories import FamilyWorld

API = "/admin/v1/conversation-lexicon"
NEW_TERM = "buy some zorblax tonight"  # a made-up drug name no packaged rule knows


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """The process's cache knows nothing of another test's database (PostgreSQL runs reuse
    one database, so number 1 there is another lexicon in every test)."""
    lexicon_cache.clear()
    yield
    lexicon_cache.clear()


def small(version: str = "test.1", **changes: Any) -> dict[str, Any]:
    """A small valid lexicon (quick to compile); ``changes`` replace its top-level fields."""
    lexicon: dict[str, Any] = {
        "version": version,
        "endings": {"en_noun": ["", "s"]},
        "rules": [
            {"id": "drugs.weed", "label": "drugs", "severity": "medium", "forms": ["weed"]},
            {
                "id": "self_harm.suicide",
                "label": "self_harm",
                "severity": "high",
                "forms": ["suicid*"],
            },
            {"id": "bullying.loser", "label": "bullying", "severity": "low", "forms": ["loser"]},
        ],
        "negatives": [{"id": "neg.weed_garden", "labels": ["drugs"], "forms": ["weed the garden"]}],
    }
    lexicon.update(changes)
    return lexicon


async def ok(response: Any, status: int = 200) -> Any:
    response = await response
    assert response.status_code == status, response.text
    return response.json()


async def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    response = await response
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code, response.text
    return body


async def lexicon_events(client: httpx.AsyncClient, staff: dict[str, str]) -> list[dict[str, Any]]:
    page = await ok(client.get("/admin/v1/audit-events?limit=100", headers=staff))
    # The clock is frozen: events of one test share a time, so their order is not asserted.
    return [e for e in page["items"] if e["action"].startswith("conversation_lexicon.")]


async def classify_in_force(runtime: Runtime, text: str) -> set[str]:
    async with runtime.sessions() as session:
        return {label.value for label in labels_of((await in_force(session)).classify(text))}


async def test_a_bad_lexicon_is_refused_with_every_problem_and_stores_nothing(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    bad = small()
    bad["rules"] = [
        {"id": "Bad Id", "label": "gossip", "severity": "high", "forms": ["x1"]},
        {"id": "ok.rule", "label": "drugs", "severity": "dire", "forms": ["weed+nope"]},
    ]
    bad["colour"] = "red"
    body = await refused(
        client.post(f"{API}/versions", json={"lexicon": bad}, headers=staff), 400, "InvalidLexicon"
    )
    paths = {p["path"] for p in body["problems"]}
    assert {
        "colour",
        "rules[0].id",
        "rules[0].label",
        "rules[0].forms[0]",
        "rules[1].severity",
        "rules[1].forms[0]",
    } <= paths
    assert body["problems_total"] == len(body["problems"])
    assert all(p["message"] for p in body["problems"])
    # Not an object at all: request validation.
    await refused(
        client.post(f"{API}/versions", json={"lexicon": [1, 2]}, headers=staff),
        422,
        "ValidationError",
    )
    listed = await ok(client.get(f"{API}/versions", headers=staff))
    assert listed == {"items": [], "in_force": 0}
    assert await lexicon_events(client, staff) == []


async def test_a_published_draft_changes_what_the_classifier_in_force_finds(
    client: httpx.AsyncClient, runtime: Runtime, staff: dict[str, str]
) -> None:
    packaged = await ok(client.get(f"{API}/in-force", headers=staff))
    assert packaged["number"] == 0
    assert packaged["lexicon"] == default_lexicon()
    assert await classify_in_force(runtime, NEW_TERM) == set()

    # A curator starts from the lexicon in force and adds a term.
    edited = copy.deepcopy(packaged["lexicon"])
    edited["version"] = "2026-12-02.2"
    edited["rules"].append(
        {"id": "drugs.zorblax", "label": "drugs", "severity": "high", "forms": ["zorblax*"]}
    )
    draft = await ok(
        client.post(
            f"{API}/versions", json={"lexicon": edited, "note": "new street name"}, headers=staff
        ),
        201,
    )
    assert (draft["number"], draft["state"], draft["version"]) == (1, "draft", "2026-12-02.2")
    assert draft["published_at"] is None
    assert draft["note"] == "new street name"
    assert draft["counts"] == {"rules": len(edited["rules"]), "negatives": len(edited["negatives"])}
    # A draft is not in force.
    assert await classify_in_force(runtime, NEW_TERM) == set()

    published = await ok(client.post(f"{API}/versions/1/publish", headers=staff))
    assert published["state"] == "in_force"
    assert published["published_at"] is not None
    assert await classify_in_force(runtime, NEW_TERM) == {"drugs"}
    assert await classify_in_force(runtime, "я хочу умереть") == {"self_harm"}  # kept rules

    listed = await ok(client.get(f"{API}/versions", headers=staff))
    assert listed["in_force"] == 1
    assert [(v["number"], v["state"]) for v in listed["items"]] == [(1, "in_force")]
    assert "lexicon" not in listed["items"][0]
    current = await ok(client.get(f"{API}/in-force", headers=staff))
    assert (current["number"], current["lexicon"]) == (1, edited)
    assert (await ok(client.get(f"{API}/versions/1", headers=staff)))["lexicon"] == edited

    me = await ok(client.get("/admin/v1/me", headers=staff))
    events = await lexicon_events(client, staff)
    assert sorted((e["action"], e["subject_id"]) for e in events) == [
        ("conversation_lexicon.draft_created", "1"),
        ("conversation_lexicon.published", "1"),
    ]
    assert {(e["actor_type"], e["actor_id"]) for e in events} == {("staff", me["id"])}
    assert {e["details"]["version"] for e in events} == {"2026-12-02.2"}


async def test_diff_and_rollback_restore_the_old_behaviour(
    client: httpx.AsyncClient, runtime: Runtime, staff: dict[str, str]
) -> None:
    first = small("test.1")
    await ok(client.post(f"{API}/versions", json={"lexicon": first}, headers=staff), 201)
    await ok(client.post(f"{API}/versions/1/publish", headers=staff))
    assert await classify_in_force(runtime, "you loser") == {"bullying"}

    second = copy.deepcopy(first)
    second["version"] = "test.2"
    second["rules"] = [r for r in second["rules"] if r["id"] != "bullying.loser"]
    second["rules"][0]["forms"] = ["weed", "zorblax*"]
    second["rules"].append(
        {"id": "violence.knife", "label": "violence", "severity": "high", "forms": ["stab+en_noun"]}
    )
    second["negatives"] = []
    second["endings"]["en_verb"] = ["", "ed"]
    await ok(client.post(f"{API}/versions", json={"lexicon": second}, headers=staff), 201)
    await ok(client.post(f"{API}/versions/2/publish", headers=staff))
    assert await classify_in_force(runtime, "you loser") == set()
    assert await classify_in_force(runtime, NEW_TERM) == {"drugs"}

    diff = await ok(client.get(f"{API}/versions/2/diff", headers=staff))
    assert (diff["base"], diff["number"]) == (1, 2)
    assert diff["version"] == {"base": "test.1", "number": "test.2"}
    assert [r["id"] for r in diff["rules"]["added"]] == ["violence.knife"]
    assert [r["id"] for r in diff["rules"]["removed"]] == ["bullying.loser"]
    assert diff["rules"]["changed"] == [
        {"id": "drugs.weed", "before": first["rules"][0], "after": second["rules"][0]}
    ]
    assert [r["id"] for r in diff["negatives"]["removed"]] == ["neg.weed_garden"]
    assert diff["negatives"]["added"] == diff["negatives"]["changed"] == []
    assert diff["endings"] == {"added": ["en_verb"], "removed": [], "changed": []}
    against_packaged = await ok(client.get(f"{API}/versions/1/diff?base=0", headers=staff))
    assert against_packaged["version"]["base"] == default_lexicon()["version"]
    await refused(
        client.get(f"{API}/versions/9/diff", headers=staff), 404, "LexiconVersionNotFound"
    )

    rolled = await ok(client.post(f"{API}/versions/1/rollback", headers=staff), 201)
    assert (rolled["number"], rolled["rolled_back_to"], rolled["state"]) == (3, 1, "in_force")
    assert rolled["lexicon"] == first
    assert await classify_in_force(runtime, "you loser") == {"bullying"}
    assert await classify_in_force(runtime, NEW_TERM) == set()
    states = await ok(client.get(f"{API}/versions", headers=staff))
    assert [(v["number"], v["state"]) for v in states["items"]] == [
        (3, "in_force"),
        (2, "retired"),
        (1, "retired"),
    ]
    # Nothing to roll back to: the content in force, a draft, an unknown number.
    await refused(client.post(f"{API}/versions/3/rollback", headers=staff), 409, "LexiconUnchanged")
    await refused(client.post(f"{API}/versions/1/rollback", headers=staff), 409, "LexiconUnchanged")
    await ok(client.post(f"{API}/versions", json={"lexicon": small("draft")}, headers=staff), 201)
    await refused(
        client.post(f"{API}/versions/4/rollback", headers=staff), 409, "LexiconNotPublished"
    )
    await refused(
        client.post(f"{API}/versions/99/rollback", headers=staff), 404, "LexiconVersionNotFound"
    )
    # Back to the packaged default.
    packaged = await ok(client.post(f"{API}/versions/0/rollback", headers=staff), 201)
    assert (packaged["number"], packaged["rolled_back_to"]) == (5, 0)
    assert await classify_in_force(runtime, "я хочу умереть") == {"self_harm"}

    actions = [(e["action"], e["subject_id"]) for e in await lexicon_events(client, staff)]
    assert sorted(actions, key=lambda a: (int(a[1]), a[0])) == [
        ("conversation_lexicon.draft_created", "1"),
        ("conversation_lexicon.published", "1"),
        ("conversation_lexicon.draft_created", "2"),
        ("conversation_lexicon.published", "2"),
        ("conversation_lexicon.rolled_back", "3"),
        ("conversation_lexicon.draft_created", "4"),
        ("conversation_lexicon.rolled_back", "5"),
    ]


async def test_publishing_refuses_what_would_lose_or_repeat_a_version(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    for version in ("a", "b"):
        await ok(
            client.post(f"{API}/versions", json={"lexicon": small(version)}, headers=staff), 201
        )
    await refused(
        client.post(f"{API}/versions/7/publish", headers=staff), 404, "LexiconVersionNotFound"
    )
    await ok(client.post(f"{API}/versions/2/publish", headers=staff))
    await refused(
        client.post(f"{API}/versions/2/publish", headers=staff), 409, "LexiconAlreadyPublished"
    )
    # Draft 1 predates version 2 in force: publishing it would drop what 2 changed.
    await refused(
        client.post(f"{API}/versions/1/publish", headers=staff), 409, "LexiconDraftSuperseded"
    )
    # The same content as the version in force (or, before any, as the packaged default).
    await ok(client.post(f"{API}/versions", json={"lexicon": small("b")}, headers=staff), 201)
    await refused(client.post(f"{API}/versions/3/publish", headers=staff), 409, "LexiconUnchanged")
    listed = await ok(client.get(f"{API}/versions", headers=staff))
    assert listed["in_force"] == 2
    assert [v["state"] for v in listed["items"]] == ["draft", "in_force", "draft"]


async def test_explain_shows_which_rule_fires_and_keeps_nothing_of_the_text(
    client: httpx.AsyncClient, staff: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "my sekret diary: suicide thoughts"
    packaged = await ok(client.post(f"{API}/explain", json={"text": secret}, headers=staff))
    assert (packaged["number"], packaged["labels"]) == (0, ["self_harm"])
    hit = packaged["hits"][0]
    assert hit["rule_id"] == "self_harm.suicide"
    assert hit["severity"] == "high"
    assert secret[hit["start"] : hit["end"]] == "suicide"

    await ok(client.post(f"{API}/versions", json={"lexicon": small()}, headers=staff), 201)
    text = "weed the garden for tulips, then weed, loser"
    draft = await ok(
        client.post(f"{API}/explain", json={"text": text, "version": 1}, headers=staff)
    )
    assert (draft["number"], draft["version"], draft["labels"]) == (
        1,
        "test.1",
        ["bullying", "drugs"],
    )
    assert [(h["rule_id"], text[h["start"] : h["end"]]) for h in draft["hits"]] == [
        ("drugs.weed", "weed"),  # the second one: the first is a negative's ("weed the garden")
        ("bullying.loser", "loser"),
    ]
    assert draft["hits"][0]["start"] > text.index("garden")
    # The draft is not in force: without a version, the packaged default answers.
    in_force_now = await ok(client.post(f"{API}/explain", json={"text": text}, headers=staff))
    assert in_force_now["number"] == 0

    await refused(
        client.post(f"{API}/explain", json={"text": "x", "version": 5}, headers=staff),
        404,
        "LexiconVersionNotFound",
    )
    too_long = await refused(
        client.post(f"{API}/explain", json={"text": "a" * 4001}, headers=staff),
        422,
        "ValidationError",
    )
    assert "a" * 100 not in str(too_long)
    events = await lexicon_events(client, staff)
    assert [e["action"] for e in events] == ["conversation_lexicon.draft_created"]
    # The texts' own words (not the lexicon's) appear in no log record.
    leaked = [m for r in caplog.records if "sekret" in (m := r.getMessage()) or "tulips" in m]
    assert leaked == []


async def test_in_force_asks_the_database_at_most_once_per_ttl(
    client: httpx.AsyncClient, runtime: Runtime, staff: dict[str, str]
) -> None:
    now = [100.0]
    cache = LexiconCache(ttl=1.0, clock=lambda: now[0])
    await ok(client.post(f"{API}/versions", json={"lexicon": small("one")}, headers=staff), 201)
    await ok(client.post(f"{API}/versions/1/publish", headers=staff))
    async with runtime.sessions() as one, runtime.sessions() as other:
        # Two callers at once share one compile.
        (_, first), (_, again) = await asyncio.gather(cache.in_force(one), cache.in_force(other))
        assert first is again
        assert first.version == "one"
    second = small(
        "two",
        rules=[
            *small()["rules"],
            {"id": "drugs.z", "label": "drugs", "severity": "high", "forms": ["zorblax"]},
        ],
    )
    await ok(client.post(f"{API}/versions", json={"lexicon": second}, headers=staff), 201)
    await ok(client.post(f"{API}/versions/2/publish", headers=staff))
    async with runtime.sessions() as session:
        now[0] += 0.9  # within the second: what this process read last
        key, classifier = await cache.in_force(session)
        assert (key[0], classifier.version) == (1, "one")
        now[0] += 0.2
        key, classifier = await cache.in_force(session)
        assert (key[0], classifier.version) == (2, "two")
        assert labels_of(classifier.classify(NEW_TERM)) == {"drugs"}
        # Compiled once per version: the same object until another version is in force.
        assert (await cache.in_force(session))[1] is classifier
    # The publishing process's own cache (the router expires it) has it at once.
    assert await classify_in_force(runtime, NEW_TERM) == {"drugs"}


async def test_guardian_and_device_tokens_are_refused(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    calls = [
        ("GET", f"{API}/versions", None),
        ("POST", f"{API}/versions", {"lexicon": small()}),
        ("GET", f"{API}/in-force", None),
        ("GET", f"{API}/versions/1", None),
        ("POST", f"{API}/versions/1/publish", None),
        ("POST", f"{API}/versions/1/rollback", None),
        ("GET", f"{API}/versions/1/diff", None),
        ("POST", f"{API}/explain", {"text": "hello"}),
    ]
    for headers in (family.guardian.headers, family.device_headers):
        for method, url, body in calls:
            response = await client.request(method, url, headers=headers, json=body)
            assert response.status_code == 401, (method, url, response.text)
            assert response.json()["error"] == "InvalidStaffToken"
