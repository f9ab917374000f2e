from __future__ import annotations

from pathlib import Path

from filters.curation import publishing, repository
from filters.curation import service as curation
from filters.engine.rules import Action, Rule, Scope
from filters.rpz.cache import ZoneCache
from filters.rpz.zone import ZoneOptions
from parental.kit.db import transaction
from parental.runtime import Runtime

OPTIONS = ZoneOptions("rpz.child-sim.invalid", ttl=300)
BLOCK, ALLOW = Action.BLOCK, Action.ALLOW
EXACT, SUBTREE, SUBDOMAINS, URL = Scope.EXACT, Scope.SUBTREE, Scope.SUBDOMAINS, Scope.URL

# Every scope and action, a URL rule, an IP address, and two sources with rules on one name.
GAMBLING = {
    "casinos": [
        Rule("casino.test", SUBTREE),
        Rule("poker.test", EXACT),
        Rule("cards.test", SUBDOMAINS),
        Rule("safe.casino.test", SUBTREE, ALLOW),
        Rule("bet.test", URL, path="/odds"),
        Rule("10.0.0.1", EXACT),
        Rule("lotto.test", SUBTREE),
    ],
    "lotto-exceptions": [Rule("lotto.test", EXACT, ALLOW), Rule("casino.test", SUBTREE)],
}
DRUGS = {"drugs": [Rule("weed.test", SUBTREE)]}


async def publish(runtime: Runtime, lists: dict[str, tuple[str, list[Rule]]]) -> int:
    """Put ``lists`` (source name -> (category, rules)) in the draft and publish them."""
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await curation.seed_categories(session, now=now)
        for name, (category, rules) in lists.items():
            source = await repository.source_by_name(session, name)
            if source is None:
                source = await curation.create_source(
                    session, name=name, category_key=category, kind="file", now=now
                )
            await curation.replace_rules(session, source, rules, report=None, actor="test", now=now)
        version = await publishing.publish(
            session, snapshot_path=runtime.snapshots.path_for_number, actor="test", now=now
        )
    return version.number


def first_lists() -> dict[str, tuple[str, list[Rule]]]:
    return {
        **{name: ("gambling", rules) for name, rules in GAMBLING.items()},
        **{name: ("drugs", rules) for name, rules in DRUGS.items()},
    }


def cache_in(tmp_path: Path) -> ZoneCache:
    return ZoneCache(tmp_path / "rpz")
