"""The child's policy is compiled once per change and kept per process: fetching the device's
policy again, or uploading usage, does not compile it again; and every change of what the
policy is built from (the rules, extra time, the day, a pause ending, a declined install, the
catalogue's always-allowed mark) is seen at once, so the kept policy is never a stale one.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in the child's Asia/Almaty."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.usage import evaluate
from telemetry.usage.evaluate import CompiledPolicy
from telemetry.usage.policy import Policy
from telemetry.usage.rules import compiled
from tests.parental.factories import FamilyWorld, staff_headers
from tests.parental.test_app_catalogue_admin import put_app
from tests.parental.test_screen_time import decision, extra_time, pause, put_rules
from tests.parental.test_screen_time_requests import answer, ask_install, long_tokens
from tests.parental.test_usage import app, upload

GAME = "org.example.cached.game"
RULES: dict[str, Any] = {"app_limits": {GAME: {"minutes": 30}}, "total_limit": {"minutes": 120}}


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return long_tokens()


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Policy]:
    """Every policy compiled, by the product's cache or by ``evaluate`` given a ``Policy``."""
    seen: list[Policy] = []
    original: Callable[[Policy], CompiledPolicy] = evaluate.compile_policy

    def counted(policy: Policy) -> CompiledPolicy:
        seen.append(policy)
        return original(policy)

    monkeypatch.setattr(evaluate, "compile_policy", counted)
    monkeypatch.setattr(compiled, "compile_policy", counted)
    return seen


async def game(client: httpx.AsyncClient, family: FamilyWorld) -> dict[str, Any]:
    found: dict[str, Any] = (await decision(client, family))["apps"][GAME]
    return found


async def test_fetching_again_and_uploading_do_not_compile_again(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld, compiles: list[Policy]
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    assert (await game(client, family))["minutes_left"] == 30
    assert (await game(client, family))["minutes_left"] == 30
    assert len(compiles) == 1

    sent = await upload(client, family, app(clock.now() - timedelta(minutes=20), 10, GAME))
    assert sent.status_code == 200, sent.text
    assert len(compiles) <= 2  # the upload's own look-up may differ, once
    after_one = len(compiles)
    sent = await upload(client, family, app(clock.now() - timedelta(minutes=5), 5, GAME))
    assert sent.status_code == 200, sent.text
    assert (await game(client, family))["minutes_left"] == 15
    assert len(compiles) == after_one


async def test_every_change_of_what_the_policy_is_built_from_is_seen_at_once(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    runtime: Runtime,
    family: FamilyWorld,
    compiles: list[Policy],
) -> None:
    sent = await upload(client, family, app(clock.now() - timedelta(minutes=40), 10, GAME))
    assert sent.status_code == 200, sent.text
    assert (await put_rules(client, family, RULES)).status_code == 200
    assert (await game(client, family))["minutes_left"] == 20

    assert (await extra_time(client, family, app=GAME, minutes=15)).status_code == 200
    assert (await game(client, family))["minutes_left"] == 35

    clock.advance(timedelta(days=1))  # Thursday: yesterday's grant and usage count no more
    assert (await game(client, family))["minutes_left"] == 30

    assert (await pause(client, family, clock.now() + timedelta(hours=1))).status_code == 200
    assert (await game(client, family))["reason"] == "paused"
    clock.advance(timedelta(hours=2))  # the pause has ended: the same revision, not paused
    assert (await game(client, family))["reason"] == "allowed"

    asked = await ask_install(client, family, GAME)
    assert asked.status_code == 201, asked.text
    assert (await answer(client, family, asked.json()["id"], decision="decline")).is_success
    assert (await game(client, family))["reason"] == "blocked"

    staff = await staff_headers(client, runtime)  # signed in now: the clock moved a day
    marked = await put_app(client, staff, GAME, category="games", always_allowed=True)
    assert marked.status_code == 201, marked.text
    assert (await game(client, family))["reason"] == "always_allowed"

    assert len(compiles) == 7  # one per state of the policy, however often it was fetched
    assert (await game(client, family))["reason"] == "always_allowed"
    assert len(compiles) == 7


def test_the_least_recently_used_policies_go_first() -> None:
    policies = compiled.CompiledPolicies(max_entries=2)
    built: list[str] = []

    def build(name: str) -> Callable[[], Policy]:
        def make() -> Policy:
            built.append(name)
            return Policy()

        return make

    first = policies.get("a", build("a"))
    policies.get("b", build("b"))
    assert policies.get("a", build("a")) is first  # a is now the most recent
    policies.get("c", build("c"))  # b goes
    policies.get("a", build("a"))
    policies.get("b", build("b"))
    assert built == ["a", "b", "c", "b"]
    assert (len(policies), policies.hits, policies.misses) == (2, 2, 4)
