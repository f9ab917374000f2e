"""Categories at the service level: the built-in ones keep their key and kind, curators' own
come and go while no source uses them."""

from __future__ import annotations

from typing import Any

import pytest

from filters.categories.catalog import BUILTIN, AgeBand
from filters.curation import categories, sources
from filters.curation.errors import BuiltinCategory, CategoryExists, CategoryInUse
from filters.curation.schemas import CategoryCreate, CategoryUpdate, SourceCreate
from parental.kit.db import transaction
from parental.runtime import Runtime

TEXTS = {"kk": "Қорқыныш", "ru": "Страшилки", "en": "Scary stories"}
BANDS = {"under_9": True, "9_12": True, "13_15": False, "16_17": False}


def creepy(**fields: Any) -> CategoryCreate:
    return CategoryCreate.model_validate(
        {
            "key": "creepy",
            "kind": "block",
            "names": TEXTS,
            "descriptions": TEXTS,
            "defaults": BANDS,
            **fields,
        }
    )


async def test_built_in_categories_are_listed_with_texts_and_defaults(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        listed = await categories.list_categories(session, now=runtime.clock.now())
    assert {c.key for c in listed} == {c.key for c in BUILTIN}
    social = next(c for c in listed if c.key == "social")
    assert social.builtin
    assert set(social.names) == set(social.descriptions) == {"kk", "ru", "en"}
    assert social.defaults == {"under_9": True, "9_12": True, "13_15": False, "16_17": False}


async def test_curators_categories(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        row = await categories.create(session, creepy(), now=now)
        assert (row.kind, row.builtin, row.defaults) == ("block", False, BANDS)
        with pytest.raises(CategoryExists):
            await categories.create(session, creepy(), now=now)
        with pytest.raises(CategoryExists):
            await categories.create(session, creepy(key="drugs"), now=now)

        changed = await categories.update(
            session,
            row,
            CategoryUpdate.model_validate({"kind": "allow", "defaults": {**BANDS, "16_17": True}}),
        )
        assert changed == {"kind": "allow", "defaults": {**BANDS, "16_17": True}}

        await sources.create(
            session, SourceCreate(name="tales", category="creepy", kind="manual"), now=now
        )
        with pytest.raises(CategoryInUse):
            await categories.update(session, row, CategoryUpdate(kind="block"))
        with pytest.raises(CategoryInUse):
            await categories.delete(session, row)
        assert row.kind == "allow"


async def test_built_in_keep_key_and_kind_but_texts_and_defaults_change(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        drugs = await categories.get(session, "drugs", now=now)
        with pytest.raises(BuiltinCategory):
            await categories.update(session, drugs, CategoryUpdate(kind="allow"))
        with pytest.raises(BuiltinCategory):
            await categories.delete(session, drugs)
        # The same kind is no change at all.
        assert await categories.update(session, drugs, CategoryUpdate(kind="block")) == {}
        changed = await categories.update(
            session, drugs, CategoryUpdate.model_validate({"names": TEXTS})
        )
        assert changed == {"names": TEXTS}
        assert (await categories.get(session, "drugs", now=now)).names == TEXTS


def test_every_age_band_needs_a_default() -> None:
    with pytest.raises(ValueError, match="missing: 16_17"):
        creepy(defaults=dict.fromkeys(("under_9", "9_12", "13_15"), True))
    assert set(creepy().defaults) == set(AgeBand)
    with pytest.raises(ValueError, match="key"):
        creepy(key="Bad Key")
