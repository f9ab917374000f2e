"""Verdicts for a batch of names or URLs against the snapshot in force and a profile."""

from __future__ import annotations

from datetime import datetime

from filters.categories.catalog import BUILTIN
from filters.check.errors import InvalidItem, NoPublishedVersion, ProfileNotFound
from filters.check.schemas import CheckResult, RuleRead
from filters.engine.matcher import decide
from filters.engine.normalize import InvalidTarget, Target, normalize_target
from filters.engine.profile import CategorySetting, Mode, Profile
from filters.engine.rules import Action
from filters.engine.store import SnapshotStore


def default_profile(timezone: str) -> Profile:
    """For lines without a child record: every blocking category on, no allow-lists."""
    return Profile(
        timezone=timezone,
        categories={
            c.key: CategorySetting(Mode.ALWAYS if c.kind == "block" else Mode.OFF) for c in BUILTIN
        },
    )


def normalize_items(items: list[str]) -> list[Target]:
    """Every item normalised, or a 400 naming the first one that is not a name or URL."""
    targets = []
    for index, item in enumerate(items):
        try:
            targets.append(normalize_target(item))
        except InvalidTarget as exc:
            raise InvalidItem(f"items[{index}]: {exc.reason}") from exc
    return targets


def check(
    store: SnapshotStore,
    items: list[str],
    *,
    profile_id: str | None,
    timezone: str,
    now: datetime,
) -> tuple[str, list[CheckResult]]:
    """The verdict for each item, in order, and the version that gave them."""
    if profile_id is not None:
        # Per-child profiles are stored with issue 3's profile work; until then, only the
        # default profile exists and any id is unknown.
        raise ProfileNotFound()
    snapshot = store.current
    if snapshot is None:
        raise NoPublishedVersion()
    targets = normalize_items(items)
    profile = default_profile(timezone)
    enabled = profile.enabled_mask(now, snapshot.categories)
    results = []
    for item, target in zip(items, targets, strict=True):
        decision = decide(snapshot, target.host, target.path, enabled=enabled, is_ip=target.is_ip)
        rule = decision.rule
        results.append(
            CheckResult(
                input=item,
                normalized=target.host + target.path,
                action="block" if decision.action is Action.BLOCK else "allow",
                categories=list(decision.categories),
                rule=None
                if rule is None
                else RuleRead(
                    host=rule.host,
                    scope=rule.scope.value,
                    path=rule.path,
                    action=rule.action.value,
                    source_id=rule.source.id,
                    source_name=rule.source.name,
                    version=rule.source.version,
                ),
            )
        )
    return snapshot.version, results
