"""Verdicts for a batch of names or URLs against the snapshot in force and a profile."""

from __future__ import annotations

from datetime import datetime

from filters.categories.catalog import BUILTIN
from filters.check import metrics
from filters.check.errors import InvalidItem, NoPublishedVersion
from filters.check.metrics import count_verdicts
from filters.check.schemas import CheckResult, RuleRead
from filters.engine.matcher import Decision, classify
from filters.engine.normalize import InvalidTarget, Target
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


GUARDIAN_SOURCE = metrics.GUARDIAN_SOURCE


def check(
    store: SnapshotStore,
    items: list[str],
    *,
    profile: Profile,
    now: datetime,
) -> tuple[str, list[CheckResult]]:
    """The verdict for each item, in order, and the version that gave them.

    The guardian's own entries in the profile decide first; the published lists, filtered by
    the categories the profile has in force at ``now``, decide the rest.
    """
    snapshot = store.current
    if snapshot is None:
        raise NoPublishedVersion()
    enabled = profile.enabled_mask(now, snapshot.categories)
    verdicts = []
    for index, item in enumerate(items):  # every item is valid, or a 400 names the first
        try:
            verdicts.append(classify(snapshot, item, enabled))
        except InvalidTarget as exc:
            raise InvalidItem(f"items[{index}]: {exc.reason}") from exc
    results = [
        verdict(item, target, decision, profile=profile, now=now, version=snapshot.version)
        for item, (target, decision) in zip(items, verdicts, strict=True)
    ]
    count_verdicts(results)
    return snapshot.version, results


def verdict(
    item: str, target: Target, decision: Decision, *, profile: Profile, now: datetime, version: str
) -> CheckResult:
    """The result for ``item`` given the lists' ``decision``: the guardian's own entries in
    the profile decide first (the API and the DNS front end share this)."""
    personal = profile.personal_decision(target.host, now) if profile.entries else None
    if personal is not None:
        return CheckResult(
            input=item,
            normalized=target.host + target.path,
            action="block" if personal.action is Action.BLOCK else "allow",
            categories=[],
            rule=RuleRead(
                host=personal.host,
                scope=personal.scope.value,
                path="",
                action=personal.action.value,
                source_id=GUARDIAN_SOURCE,
                source_name="the guardian's own list",
                version=version,
            ),
        )
    rule = decision.rule
    return CheckResult(
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
