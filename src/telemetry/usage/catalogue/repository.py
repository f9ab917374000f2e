"""Every SQL statement of the app catalogue and of the guardians' categories."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.usage.catalogue.models import AppCatalogueEntry, ChildAppCategory
from telemetry.usage.models import UsageApp
from telemetry.usage.rules.models import ScreenTimePolicy

LOOKUP_CHUNK = 1000  # ids per IN list, well under every driver's parameter limit
PATTERN_CHUNK = 200  # LIKE patterns per scan of the rules
_CATALOGUE = AppCatalogueEntry.metadata.tables[AppCatalogueEntry.__tablename__]
_CHILD = ChildAppCategory.metadata.tables[ChildAppCategory.__tablename__]


def _dialect(session: AsyncSession) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def _chunks(apps: Collection[str]) -> list[list[str]]:
    ordered = sorted(apps)
    return [ordered[i : i + LOOKUP_CHUNK] for i in range(0, len(ordered), LOOKUP_CHUNK)]


async def _deleted(session: AsyncSession, statement: Any) -> int:
    result: Any = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


# --- the catalogue ----------------------------------------------------------------------


async def catalogue_facts(
    session: AsyncSession, apps: Collection[str]
) -> dict[str, tuple[str, bool]]:
    """The catalogue's category and ``always_allowed`` of each of ``apps`` it lists."""
    found: dict[str, tuple[str, bool]] = {}
    for chunk in _chunks(apps):
        query = select(
            AppCatalogueEntry.app, AppCatalogueEntry.category, AppCatalogueEntry.always_allowed
        ).where(AppCatalogueEntry.app.in_(chunk))
        found.update(
            {row.app: (row.category, row.always_allowed) for row in await session.execute(query)}
        )
    return found


async def entries(session: AsyncSession, apps: Collection[str]) -> dict[str, AppCatalogueEntry]:
    """The catalogue's rows for those of ``apps`` it lists."""
    found: dict[str, AppCatalogueEntry] = {}
    for chunk in _chunks(apps):
        query = select(AppCatalogueEntry).where(AppCatalogueEntry.app.in_(chunk))
        found.update({row.app: row for row in await session.scalars(query)})
    return found


async def entry(session: AsyncSession, app: str) -> AppCatalogueEntry | None:
    return await session.get(AppCatalogueEntry, app, populate_existing=True)


async def search(
    session: AsyncSession,
    *,
    text: str | None,
    category: str | None,
    after: str | None,
    limit: int,
) -> list[AppCatalogueEntry]:
    """Up to ``limit`` rows in app id order, after the id ``after``: those whose id or name
    holds ``text`` (any case; ``%`` and ``_`` are literal) and of ``category``."""
    query = select(AppCatalogueEntry).order_by(AppCatalogueEntry.app).limit(limit)
    if text:
        needle = text.lower()
        query = query.where(
            or_(
                func.lower(AppCatalogueEntry.app).contains(needle, autoescape=True),
                func.lower(AppCatalogueEntry.name).contains(needle, autoescape=True),
            )
        )
    if category is not None:
        query = query.where(AppCatalogueEntry.category == category)
    if after is not None:
        query = query.where(AppCatalogueEntry.app > after)
    return list(await session.scalars(query))


async def upsert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store each row (the table's columns), replacing the one of the same app id, whatever a
    concurrent transaction stored first."""
    if not rows:
        return
    insert = _dialect(session).insert(_CATALOGUE)
    statement = insert.on_conflict_do_update(
        index_elements=[_CATALOGUE.c.app],
        set_={
            column: insert.excluded[column]
            for column in ("name", "category", "always_allowed", "note", "updated_at", "updated_by")
        },
    )
    # In app order, so two imports naming the same apps lock their rows in one order.
    await session.execute(statement, sorted(rows, key=lambda row: str(row["app"])))


async def delete_entry(session: AsyncSession, app: str) -> bool:
    """Delete the app's row; whether there was one."""
    return (
        await _deleted(session, delete(AppCatalogueEntry).where(AppCatalogueEntry.app == app)) > 0
    )


# --- a guardian's categories for one child ----------------------------------------------


async def child_categories(session: AsyncSession, child_id: uuid.UUID) -> dict[str, str]:
    """Every category a guardian gave an app for the child (a child has a bounded number)."""
    query = select(ChildAppCategory.app, ChildAppCategory.category).where(
        ChildAppCategory.child_id == child_id
    )
    return {row.app: row.category for row in await session.execute(query)}


async def child_category(
    session: AsyncSession, child_id: uuid.UUID, app: str
) -> ChildAppCategory | None:
    return await session.get(ChildAppCategory, (child_id, app), populate_existing=True)


async def count_child_categories(session: AsyncSession, child_id: uuid.UUID) -> int:
    query = select(func.count()).where(ChildAppCategory.child_id == child_id)
    return int(await session.scalar(query) or 0)


async def set_child_category(
    session: AsyncSession,
    child_id: uuid.UUID,
    app: str,
    *,
    category: str,
    by: uuid.UUID,
    now: datetime,
) -> None:
    """Store the guardian's category for the child's app, replacing the one stored."""
    insert = _dialect(session).insert(_CHILD)
    statement = insert.values(
        child_id=child_id, app=app, category=category, updated_at=now, updated_by=by
    ).on_conflict_do_update(
        index_elements=[_CHILD.c.child_id, _CHILD.c.app],
        set_={"category": category, "updated_at": now, "updated_by": by},
    )
    await session.execute(statement)


async def clear_child_category(session: AsyncSession, child_id: uuid.UUID, app: str) -> bool:
    """Delete the guardian's category for the child's app; whether there was one."""
    statement = delete(ChildAppCategory).where(
        ChildAppCategory.child_id == child_id, ChildAppCategory.app == app
    )
    return await _deleted(session, statement) > 0


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> int:
    """Delete every category a guardian gave the child's apps; how many went."""
    return await _deleted(
        session, delete(ChildAppCategory).where(ChildAppCategory.child_id == child_id)
    )


async def reported_app_names(session: AsyncSession, child_id: uuid.UUID) -> dict[str, str]:
    """Every app the child's devices reported, with the name they last gave it."""
    query = select(UsageApp.app, UsageApp.name).where(UsageApp.child_id == child_id)
    return {row.app: row.name for row in await session.execute(query)}


# --- the children an app's row matters to ----------------------------------------------


async def children_with_reported(session: AsyncSession, apps: Collection[str]) -> set[uuid.UUID]:
    """The children with screen-time rules whose devices reported one of ``apps``."""
    found: set[uuid.UUID] = set()
    for chunk in _chunks(apps):
        query = (
            select(UsageApp.child_id)
            .join(ScreenTimePolicy, ScreenTimePolicy.child_id == UsageApp.child_id)
            .where(UsageApp.app.in_(chunk))
            .distinct()
        )
        found.update(await session.scalars(query))
    return found


async def rules_mentioning(
    session: AsyncSession, needles: Sequence[str]
) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """The stored rules whose JSON text holds one of ``needles``, with their child: a cheap
    first cut, for the caller to check what the rules name."""
    found: dict[uuid.UUID, dict[str, Any]] = {}
    text = cast(ScreenTimePolicy.rules, String)
    for start in range(0, len(needles), PATTERN_CHUNK):
        chunk = needles[start : start + PATTERN_CHUNK]
        query = select(ScreenTimePolicy.child_id, ScreenTimePolicy.rules).where(
            or_(*(text.contains(needle, autoescape=True) for needle in chunk))
        )
        found.update({row.child_id: row.rules for row in await session.execute(query)})
    return list(found.items())
