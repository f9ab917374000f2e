"""The category of each app a child uses, for screen-time limits and the guardian's reports.

Precedence, per app: the category a guardian gave it for this child (``ChildAppCategory``),
else the curators' catalogue's (``AppCatalogueEntry``), else ``other``. An app id is an Android
package or an iOS bundle id, compared exactly (bundle ids are case-sensitive); the two ids of
one app are two catalogue rows.

``resolve`` reads the child's guardian categories in one query (a child has at most
``catalogue_service.MAX_CHILD_CATEGORIES``) and the catalogue in one query for all the apps
asked about (split only past ``catalogue_repository.LOOKUP_CHUNK`` ids).
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


async def resolve(
    session: AsyncSession, child_id: uuid.UUID, apps: Iterable[str]
) -> dict[str, Categorised]:
    """The category of each of ``apps`` for ``child_id``, with where it comes from."""
    wanted = set(apps)
    if not wanted:
        return {}
    guardian = await repository.child_categories(session, child_id)
    settled = {app for app, category in guardian.items() if as_category(category) is not None}
    listed = await repository.catalogue_categories(session, wanted - settled)
    return precedence(wanted, guardian=guardian, catalogue=listed)


async def categories_for(
    session: AsyncSession, child_id: uuid.UUID, apps: Iterable[str]
) -> dict[str, Category]:
    """The category of each of ``apps`` for ``child_id``."""
    return {app: found.category for app, found in (await resolve(session, child_id, apps)).items()}
