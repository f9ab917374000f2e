"""What changed between two lexicons, at the level curators think in: rules and negatives by
id (added, removed, changed), ending sets by name, and the version string. Both lexicons were
validated when stored, so every rule has a unique id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telemetry.conversations.lexicons.schemas import (
    EndingsDiff,
    LexiconDiffRead,
    RuleChange,
    RuleDiff,
    VersionChange,
)


def _by_id(items: object) -> dict[str, dict[str, Any]]:
    return (
        {item["id"]: item for item in items if isinstance(item, dict)}
        if isinstance(items, list)
        else {}
    )


def rule_diff(base: object, new: object) -> RuleDiff:
    """Entries of two ``rules`` (or ``negatives``) lists compared by id, each list by id."""
    old, now = _by_id(base), _by_id(new)
    return RuleDiff(
        added=[now[i] for i in sorted(now.keys() - old.keys())],
        removed=[old[i] for i in sorted(old.keys() - now.keys())],
        changed=[
            RuleChange(id=i, before=old[i], after=now[i])
            for i in sorted(old.keys() & now.keys())
            if old[i] != now[i]
        ],
    )


def _endings(base: object, new: object) -> EndingsDiff:
    old = base if isinstance(base, Mapping) else {}
    now = new if isinstance(new, Mapping) else {}
    return EndingsDiff(
        added=sorted(now.keys() - old.keys()),
        removed=sorted(old.keys() - now.keys()),
        changed=sorted(k for k in old.keys() & now.keys() if old[k] != now[k]),
    )


def diff_lexicons(
    base: Mapping[str, Any], new: Mapping[str, Any], *, base_number: int, number: int
) -> LexiconDiffRead:
    """What ``new`` (version ``number``) changes from ``base`` (version ``base_number``)."""
    return LexiconDiffRead(
        base=base_number,
        number=number,
        version=VersionChange(base=str(base.get("version")), number=str(new.get("version"))),
        endings=_endings(base.get("endings"), new.get("endings")),
        rules=rule_diff(base.get("rules"), new.get("rules")),
        negatives=rule_diff(base.get("negatives"), new.get("negatives")),
    )
