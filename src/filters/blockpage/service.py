"""What the block page needs to know about a name: is it blocked for this profile, and by
which category, described in the child's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from filters.blockpage.page import Category
from filters.blockpage.texts import Locale
from filters.categories.catalog import BUILTIN
from filters.check.errors import InvalidItem, NoPublishedVersion
from filters.check.service import check
from filters.curation import repository as curation
from filters.engine.normalize import InvalidTarget, normalize_target
from filters.engine.profile import Profile
from filters.engine.store import SnapshotStore

MAX_HOST_SHOWN = 253


@dataclass(frozen=True)
class Verdict:
    host: str  # normalised
    blocked: bool
    category: str | None  # None: the guardian's own list, or nothing published yet


def host_of(header: str) -> str | None:
    """The name in a ``Host`` header (port dropped), normalised; None if it is not a name."""
    raw = header.strip()
    if raw.startswith("["):  # an IPv6 literal: no name was blocked
        return None
    raw = raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw
    try:
        target = normalize_target(raw)
    except InvalidTarget:
        return None
    return None if target.is_ip else target.host


def decide(store: SnapshotStore, host: str, *, profile: Profile, now: datetime) -> Verdict:
    """The profile's verdict on ``host`` now (decided again: the DNS answer said only "block")."""
    try:
        _, (result,) = check(store, [host], profile=profile, now=now)
    except (NoPublishedVersion, InvalidItem):
        return Verdict(host, True, None)
    return Verdict(host, result.action == "block", next(iter(result.categories), None))


async def describe(session: AsyncSession, key: str, locale: Locale) -> Category | None:
    """The category's name and description in ``locale``: as curated, else as built in."""
    row = await curation.category_by_key(session, key)
    if row is not None:
        names, descriptions = row.names, row.descriptions
    else:
        builtin = next((c for c in BUILTIN if c.key == key), None)
        if builtin is None:
            return None
        names, descriptions = builtin.names, builtin.descriptions
    return Category(
        names.get(locale) or names.get("en") or key,
        descriptions.get(locale) or descriptions.get("en") or "",
    )
