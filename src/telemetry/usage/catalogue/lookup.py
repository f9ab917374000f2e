"""The category of each app a child uses, for screen-time limits and the guardian's reports.

Precedence, per app: the category a guardian gave it for this child (``ChildAppCategory``),
else the curators' catalogue's (``AppCatalogueEntry``), else ``other``. An app id is an Android
package or an iOS bundle id, compared exactly (bundle ids are case-sensitive); the two ids of
one app are two catalogue rows.

``resolve`` reads the child's guardian categories in one query (a child has at most
``catalogue_service.MAX_CHILD_CATEGORIES``) and the catalogue in one query for all the apps
asked about (split only past ``catalogue_repository.LOOKUP_CHUNK`` ids). ``apps_for`` reads the
same and also which of the apps the catalogue marks ``always_allowed`` (whatever category a
guardian gave them: the mark is about reaching help, not about the category).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.usage.catalogue import repository
from telemetry.usage.policy import Category


class Source(StrEnum):
    GUARDIAN = "guardian"  # a guardian's category for this child
    CATALOGUE = "catalogue"  # the curators' catalogue
    DEFAULT = "default"  # neither: other


@dataclass(frozen=True, slots=True)
class Categorised:
    category: Category
    source: Source


def as_category(value: str | None) -> Category | None:
    """A stored category, or None for one this version does not know (treated as absent)."""
    try:
        return None if value is None else Category(value)
    except ValueError:
        return None


def precedence(
    apps: Iterable[str], *, guardian: Mapping[str, str], catalogue: Mapping[str, str]
) -> dict[str, Categorised]:
    """Each app's category and where it comes from (pure)."""
    out: dict[str, Categorised] = {}
    for app in apps:
        chosen = as_category(guardian.get(app))
        if chosen is not None:
            out[app] = Categorised(chosen, Source.GUARDIAN)
            continue
        listed = as_category(catalogue.get(app))
        out[app] = (
            Categorised(listed, Source.CATALOGUE)
            if listed is not None
            else Categorised(Category.OTHER, Source.DEFAULT)
        )
    return out


@dataclass(frozen=True, slots=True)
class Apps:
    """What the catalogue and the guardians say of a child's apps."""

    categories: dict[str, Category]  # every app asked about
    always_allowed: frozenset[str]  # those of them the catalogue marks always allowed


async def _lookup(
    session: AsyncSession, child_id: uuid.UUID, wanted: set[str]
) -> tuple[dict[str, Categorised], frozenset[str]]:
    if not wanted:
        return {}, frozenset()
    guardian = await repository.child_categories(session, child_id)
    listed = await repository.catalogue_facts(session, wanted)
    found = precedence(
        wanted, guardian=guardian, catalogue={app: fact[0] for app, fact in listed.items()}
    )
    return found, frozenset(app for app, (_, always) in listed.items() if always)


async def resolve(
    session: AsyncSession, child_id: uuid.UUID, apps: Iterable[str]
) -> dict[str, Categorised]:
    """The category of each of ``apps`` for ``child_id``, with where it comes from."""
    return (await _lookup(session, child_id, set(apps)))[0]


async def categories_for(
    session: AsyncSession, child_id: uuid.UUID, apps: Iterable[str]
) -> dict[str, Category]:
    """The category of each of ``apps`` for ``child_id``."""
    return {app: found.category for app, found in (await resolve(session, child_id, apps)).items()}


async def apps_for(session: AsyncSession, child_id: uuid.UUID, apps: Iterable[str]) -> Apps:
    """The category of each of ``apps`` for ``child_id``, and those always allowed."""
    found, always = await _lookup(session, child_id, set(apps))
    return Apps({app: f.category for app, f in found.items()}, always)
