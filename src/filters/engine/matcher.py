"""Deciding a verdict for one host (and path) against a snapshot and a set of categories.

The most specific applicable rule wins: a longer matching name beats a shorter one, and a URL
rule (host + path prefix) beats a host rule on the same name, a longer path beating a shorter.
Among the rules at that most specific level an allow beats a block, so an exception written at
the same or a broader level than a block is honoured, and a block written more specifically
than an allow is honoured too. A rule applies only when one of its categories is enabled.

URL rules need a path: a bare name (what a DNS resolver sees) is decided by host rules only.
A URL rule's path is a prefix that must end at a boundary of the request path: ``/foo`` matches
``/foo``, ``/foo/bar``, ``/foo.html`` and ``/foo?x``, not ``/foobar``.

``classify`` is the hot path (the check service and the benchmark use it): normalising and
deciding in one call, natively when the snapshot has a native table and the name is a plain one
(see ``_accel``). ``decide`` below is the reference the native code answers the same as.
"""

from __future__ import annotations

from filters.engine.normalize import Target, normalize_target
from filters.engine.rules import Action, Scope
from filters.engine.snapshot import CompiledRule, Snapshot
from filters.engine.verdict import ALLOW_UNLISTED, Decider, Decision

__all__ = ["ALLOW_UNLISTED", "Decider", "Decision", "classify", "decide", "path_matches"]

_PATH_BOUNDARY = frozenset("/.?;#")


def path_matches(request_path: str, prefix: str) -> bool:
    if not request_path.startswith(prefix):
        return False
    if len(request_path) == len(prefix) or prefix.endswith("/"):
        return True
    return request_path[len(prefix)] in _PATH_BOUNDARY


def classify(snapshot: Snapshot, raw: str, enabled: int) -> tuple[Target, Decision]:
    """Normalise ``raw`` (a name or URL) and decide it: ``InvalidTarget`` if it is neither.

    ``enabled`` is the mask of the categories in force (``Profile.enabled_mask``). An unlisted
    name gets the shared ``ALLOW_UNLISTED``.
    """
    table = snapshot.native
    if table is not None:
        verdict = table.classify(raw, enabled)
        if verdict is not None:
            return verdict
    target = normalize_target(raw)
    return target, decide(snapshot, target.host, target.path, enabled=enabled, is_ip=target.is_ip)


def decide(
    snapshot: Snapshot, host: str, path: str, *, enabled: int, is_ip: bool = False
) -> Decision:
    """The verdict for ``host`` (normalised) and ``path`` ("" for a bare name)."""
    table = snapshot.native
    if table is not None:
        decision = table.decide(host, path, enabled, is_ip)
        if decision is not None:
            return decision
    return _decide(snapshot, host, path, enabled, is_ip)


def _decide(snapshot: Snapshot, host: str, path: str, enabled: int, is_ip: bool) -> Decision:
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
