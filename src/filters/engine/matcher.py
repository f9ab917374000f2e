"""Deciding a verdict for one host (and path) against a snapshot and a set of categories.

The most specific applicable rule wins: a longer matching name beats a shorter one, and a URL
rule (host + path prefix) beats a host rule on the same name, a longer path beating a shorter.
Among the rules at that most specific level an allow beats a block, so an exception written at
the same or a broader level than a block is honoured, and a block written more specifically
than an allow is honoured too. A rule applies only when one of its categories is enabled.

URL rules need a path: a bare name (what a DNS resolver sees) is decided by host rules only.
A URL rule's path is a prefix that must end at a boundary of the request path: ``/foo`` matches
``/foo``, ``/foo/bar``, ``/foo.html`` and ``/foo?x``, not ``/foobar``.
"""

from __future__ import annotations

from dataclasses import dataclass

from filters.engine.rules import Action, Scope
from filters.engine.snapshot import CompiledRule, Snapshot, SourceRef

_PATH_BOUNDARY = frozenset("/.?;#")


@dataclass(frozen=True, slots=True)
class Decider:
    """The rule that decided, with the listed name it was found on."""

    host: str
    scope: Scope
    action: Action
    path: str
    source: SourceRef


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    categories: tuple[str, ...]
    rule: Decider | None


ALLOW_UNLISTED = Decision(Action.ALLOW, (), None)


def path_matches(request_path: str, prefix: str) -> bool:
    if not request_path.startswith(prefix):
        return False
    if len(request_path) == len(prefix) or prefix.endswith("/"):
        return True
    return request_path[len(prefix)] in _PATH_BOUNDARY


def decide(
    snapshot: Snapshot, host: str, path: str, *, enabled: int, is_ip: bool = False
) -> Decision:
    """The verdict for ``host`` (normalised) and ``path`` ("" for a bare name)."""
    best_level = -1
    best: list[tuple[CompiledRule, str]] = []
    name = host
    level = host.count(".") + 1
    full = True
    while True:
        for rule in snapshot.rules_for(name):
            if not rule.mask & enabled:
                continue
            scope = rule.scope
            if scope is Scope.URL:
                if not path or not path_matches(path, rule.path):
                    continue
                rule_level = level * 4096 + min(len(rule.path), 4095)
            elif full:
                if scope is Scope.SUBDOMAINS:
                    continue
                rule_level = level * 4096
            else:
                if scope is Scope.EXACT:
                    continue
                rule_level = level * 4096
            if rule_level > best_level:
                best_level = rule_level
                best = [(rule, name)]
            elif rule_level == best_level:
                best.append((rule, name))
        if is_ip:
            break
        dot = name.find(".")
        if dot < 0:
            break
        name = name[dot + 1 :]
        level -= 1
        full = False
    if not best:
        return ALLOW_UNLISTED
    chosen = next(((r, n) for r, n in best if r.action is Action.ALLOW), best[0])
    rule, listed = chosen
    mask = rule.mask & enabled
    categories = tuple(c for i, c in enumerate(snapshot.categories) if mask >> i & 1)
    return Decision(
        rule.action,
        categories,
        Decider(listed, rule.scope, rule.action, rule.path, snapshot.sources[rule.source]),
    )
