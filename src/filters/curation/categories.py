"""Categories curators manage: the built-in ones (texts and age-band defaults may change, the
key and kind may not) and their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import repository
from filters.curation.errors import BuiltinCategory, CategoryExists, CategoryInUse, CategoryNotFound
from filters.curation.models import Category
from filters.curation.schemas import CategoryCreate, CategoryRead, CategoryUpdate
from filters.curation.service import seed_categories


async def read(session: AsyncSession, category: Category) -> CategoryRead:
    return CategoryRead(
        key=category.key,
        kind="allow" if category.kind == "allow" else "block",
        builtin=category.builtin,
        names=category.names,
        descriptions=category.descriptions,
        defaults=category.defaults,
        sources=await repository.source_count(session, category.id),
        created_at=category.created_at,
    )


async def list_categories(session: AsyncSession, *, now: datetime) -> list[CategoryRead]:
    """Every category, built-in ones included (added first if this database lacks them)."""
    await seed_categories(session, now=now)
    return [await read(session, c) for c in await repository.categories(session)]


async def get(session: AsyncSession, key: str, *, now: datetime) -> Category:
    await seed_categories(session, now=now)
    category = await repository.category_by_key(session, key)
    if category is None:
        raise CategoryNotFound()
    return category


async def create(session: AsyncSession, body: CategoryCreate, *, now: datetime) -> Category:
    await seed_categories(session, now=now)
    if await repository.category_by_key(session, body.key) is not None:
        raise CategoryExists()
    category = Category(
        key=body.key,
        kind=body.kind,
        names=body.names.model_dump(),
        descriptions=body.descriptions.model_dump(),
        defaults={band.value: on for band, on in body.defaults.items()},
        builtin=False,
        created_at=now,
    )
    await repository.add(session, category)
    return category


async def update(session: AsyncSession, category: Category, body: CategoryUpdate) -> dict[str, Any]:
    """Apply the fields given; returns what changed, for the audit log.

    The kind decides what a category's lists do, so it stays fixed once sources fill it (their
    rules were imported as blocks or as exceptions) and for the built-in categories.
    """
    changed: dict[str, Any] = {}
    if body.kind is not None and body.kind != category.kind:
        if category.builtin:
            raise BuiltinCategory()
        if await repository.source_count(session, category.id):
            raise CategoryInUse("The kind of a category with sources cannot change.")
        category.kind = changed["kind"] = body.kind
    if body.names is not None:
        category.names = changed["names"] = body.names.model_dump()
    if body.descriptions is not None:
        category.descriptions = changed["descriptions"] = body.descriptions.model_dump()
    if body.defaults is not None:
        category.defaults = changed["defaults"] = {b.value: on for b, on in body.defaults.items()}
    await session.flush()
    return changed


async def delete(session: AsyncSession, category: Category) -> None:
    """Delete a curator's category that no source uses (so no published version names it)."""
    if category.builtin:
        raise BuiltinCategory()
    if await repository.source_count(session, category.id):
        raise CategoryInUse()
    await repository.remove(session, category)
