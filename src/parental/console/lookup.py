"""Why a name or URL gets its verdict: the verdict for the default profile and for an age
band's defaults, the deciding rule, the entry behind it and its history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from filters.categories.catalog import AgeBand
from filters.check.errors import InvalidItem, NoPublishedVersion
from filters.check.schemas import CheckResult
from filters.check.service import default_profile, verdict
from filters.curation import categories, entries
from filters.curation.schemas import EntryHistory, EntryRead
from filters.engine.matcher import classify
from filters.engine.normalize import InvalidTarget
from filters.engine.profile import CategorySetting, Mode, Profile
from filters.engine.store import SnapshotStore

BANDS = [band.value for band in AgeBand]


@dataclass(frozen=True)
class Verdict:
    profile: str  # "default" or an age band
    result: CheckResult
    entry: EntryRead | None  # the curated row behind the deciding rule, when found


@dataclass(frozen=True)
class Lookup:
    target: str
    version: str
    verdicts: list[Verdict]
    history: EntryHistory | None  # of the first verdict's deciding entry


async def band_profile(
    session: AsyncSession, band: str, *, timezone: str, now: datetime
) -> Profile:
    """The profile a new child of ``band`` starts with: each category's default for it."""
    return Profile(
        timezone=timezone,
        categories={
            c.key: CategorySetting(Mode.ALWAYS if c.defaults.get(band, False) else Mode.OFF)
            for c in await categories.list_categories(session, now=now)
        },
    )


async def _entry_of(session: AsyncSession, result: CheckResult) -> EntryRead | None:
    """The live entry the snapshot's deciding rule was compiled from."""
    rule = result.rule
    if rule is None:
        return None
    try:
        source_id = uuid.UUID(rule.source_id)
    except ValueError:
        return None  # not a curated source (a guardian's own list)
    page = await entries.search(
        session,
        contains=None,
        suffix=rule.host,
        source_id=source_id,
        category=None,
        state="live",
        limit=50,
        cursor=None,
    )
    for item in page.items:
        if (item.host, item.scope, item.path, item.action) == (
            rule.host,
            rule.scope,
            rule.path,
            rule.action,
        ):
            return item
    return None


async def look_up(
    session: AsyncSession,
    store: SnapshotStore,
    target: str,
    *,
    band: str | None,
    timezone: str,
    now: datetime,
) -> Lookup:
    """The verdicts of ``target`` in the version in force (``InvalidItem`` if it is no name or
    URL, ``NoPublishedVersion`` before the first publish)."""
    snapshot = store.current
    if snapshot is None:
        raise NoPublishedVersion()
    profiles = [("default", default_profile(timezone))]
    if band is not None:
        profiles.append((band, await band_profile(session, band, timezone=timezone, now=now)))
    verdicts = []
    for name, profile in profiles:
        mask = profile.enabled_mask(now, snapshot.categories)
        try:
            normalized, decision = classify(snapshot, target, mask)
        except InvalidTarget as exc:
            raise InvalidItem(f"{target!r}: {exc.reason}") from exc
        result = verdict(
            target, normalized, decision, profile=profile, now=now, version=snapshot.version
        )
        verdicts.append(Verdict(name, result, await _entry_of(session, result)))
    first = next((v.entry for v in verdicts if v.entry is not None), None)
    history = (
        await entries.history(session, await entries.get(session, first.id)) if first else None
    )
    return Lookup(target, snapshot.version, verdicts, history)
