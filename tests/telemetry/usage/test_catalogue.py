"""The app catalogue's rules without HTTP: the precedence of a guardian's category over the
catalogue's over ``other``, how an import item is judged, the starter catalogue the product
ships, and ``categories_for`` on the test database (one query for each source)."""

from __future__ import annotations

import csv
import fnmatch
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from parental.kit.db import transaction
from parental.runtime import Runtime
from telemetry.usage.catalogue import repository
from telemetry.usage.catalogue import service as catalogue_service
from telemetry.usage.catalogue.lookup import (
    Categorised,
    Source,
    categories_for,
    precedence,
    resolve,
)
from telemetry.usage.catalogue.schemas import (
    CatalogueAppCreate,
    CatalogueImportItem,
    ImportRejectReason,
)
from telemetry.usage.policy import Category
from telemetry.usage.service import label, valid_app

PYPROJECT = Path(__file__).parents[3] / "pyproject.toml"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CURATOR = uuid.UUID("22222222-2222-4222-8222-222222222222")
GUARDIAN = uuid.UUID("44444444-4444-4444-8444-444444444444")


def starter() -> list[dict[str, str]]:
    text = (
        resources.files("telemetry.usage.catalogue").joinpath("data/app_catalogue.csv").read_text()
    )
    return list(csv.DictReader(text.splitlines()))


# --- precedence -------------------------------------------------------------------------


def test_the_guardians_category_wins_then_the_catalogues_then_other() -> None:
    found = precedence(
        ["a.game", "a.chat", "a.video", "a.unknown"],
        guardian={"a.game": "education", "a.video": "video"},
        catalogue={"a.game": "games", "a.chat": "messaging", "a.video": "social"},
    )
    assert found == {
        "a.game": Categorised(Category.EDUCATION, Source.GUARDIAN),
        "a.chat": Categorised(Category.MESSAGING, Source.CATALOGUE),
        "a.video": Categorised(Category.VIDEO, Source.GUARDIAN),
        "a.unknown": Categorised(Category.OTHER, Source.DEFAULT),
    }


def test_a_stored_category_this_version_does_not_know_counts_as_absent() -> None:
    found = precedence(
        ["a.x", "a.y"], guardian={"a.x": "gambling"}, catalogue={"a.x": "games", "a.y": "nope"}
    )
    assert found == {
        "a.x": Categorised(Category.GAMES, Source.CATALOGUE),
        "a.y": Categorised(Category.OTHER, Source.DEFAULT),
    }


# --- judging an import item --------------------------------------------------------------


def item(**changes: Any) -> CatalogueImportItem:
    return CatalogueImportItem.model_validate(
        {"app": "org.example.app", "name": "Example", "category": "games", **changes}
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"app": ""}, ImportRejectReason.INVALID_APP),
        ({"app": "org.example app"}, ImportRejectReason.INVALID_APP),
        ({"app": "x" * 256}, ImportRejectReason.INVALID_APP),
        ({"name": " \t\n"}, ImportRejectReason.INVALID_NAME),
        ({"name": "n" * 256}, ImportRejectReason.INVALID_NAME),
        ({"category": "gambling"}, ImportRejectReason.INVALID_CATEGORY),
        ({"category": "Games"}, ImportRejectReason.INVALID_CATEGORY),
        ({"note": "n" * 501}, ImportRejectReason.INVALID_NOTE),
    ],
)
def test_an_invalid_import_item_gets_its_reason(
    changes: dict[str, Any], reason: ImportRejectReason
) -> None:
    assert catalogue_service.judge(item(**changes)) == reason


def test_a_valid_import_item_becomes_the_row_a_put_writes() -> None:
    judged = catalogue_service.judge(item(name="  Example\u0000 Game ", note="n" * 500))
    assert judged == CatalogueAppCreate(
        name="Example Game", category=Category.GAMES, note="n" * 500
    )


# --- the starter catalogue ----------------------------------------------------------------


def test_the_starter_catalogue_is_valid() -> None:
    rows = starter()
    assert 100 <= len(rows) <= 250
    apps = [row["app"] for row in rows]
    assert len(set(apps)) == len(apps), "an app id twice"
    for row in rows:
        assert set(row) == {"app", "name", "category", "always_allowed"}, row
        assert valid_app(row["app"]), row
        assert label(row["name"]) == row["name"], row
        assert row["category"] in set(Category), row
        assert row["always_allowed"] in ("true", "false"), row
    assert {row["category"] for row in rows} == set(Category)


def test_the_starter_catalogue_always_allows_the_apps_to_reach_help() -> None:
    """Phone (Android's usual dialers, the in-call screen and the emergency dialer's process,
    iOS), contacts, SMS and messages, emergency information and maps; nothing else."""
    always = {row["app"] for row in starter() if row["always_allowed"] == "true"}
    assert always == {
        "com.android.dialer",
        "com.google.android.dialer",
        "com.samsung.android.dialer",
        "com.samsung.android.incallui",
        "com.android.contacts",
        "com.android.phone",
        "com.apple.mobilephone",
        "com.google.android.contacts",
        "com.apple.MobileAddressBook",
        "com.google.android.apps.messaging",
        "com.samsung.android.messaging",
        "com.android.mms",
        "com.apple.MobileSMS",
        "com.android.emergency",
        "com.google.android.apps.safetyhub",
        "com.google.android.apps.maps",
        "com.google.Maps",
        "com.apple.Maps",
        "ru.yandex.yandexmaps",
        "ru.dublgis.dgismobile",
    }


@pytest.mark.parametrize(
    ("app", "category"),
    [
        ("com.whatsapp", "messaging"),  # Android package
        ("net.whatsapp.WhatsApp", "messaging"),  # its iOS bundle id
        ("org.telegram.messenger", "messaging"),
        ("ph.telegra.Telegraph", "messaging"),
        ("com.instagram.android", "social"),
        ("com.burbn.instagram", "social"),
        ("com.zhiliaoapp.musically", "social"),
        ("com.vkontakte.android", "social"),
        ("com.google.android.youtube", "video"),
        ("com.google.ios.youtube", "video"),
        ("com.roblox.client", "games"),
        ("com.mojang.minecraftpe", "games"),
        ("com.duolingo", "education"),
        ("com.android.chrome", "browser"),
        ("org.mozilla.firefox", "browser"),
        ("kz.kaspi.mobile", "other"),
        ("ru.dublgis.dgismobile", "other"),
        ("com.google.android.dialer", "other"),
        ("com.apple.mobilephone", "other"),
        ("com.apple.MobileSMS", "messaging"),
        ("com.google.android.apps.maps", "other"),
        ("com.android.settings", "other"),
        ("com.apple.Preferences", "other"),
    ],
)
def test_the_starter_catalogue_knows_common_apps(app: str, category: str) -> None:
    assert {row["app"]: row["category"] for row in starter()}[app] == category


def test_the_starter_catalogue_is_in_the_installed_package() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["telemetry"]
    assert any(fnmatch.fnmatch("usage/catalogue/data/app_catalogue.csv", p) for p in patterns)


# --- on the database ----------------------------------------------------------------------


@contextmanager
def counted(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements run on the runtime's engine inside the block."""
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def put_catalogue(runtime: Runtime, rows: dict[str, str]) -> None:
    async with transaction(runtime.sessions) as session:
        await repository.upsert(
            session,
            [
                {
                    "app": app,
                    "name": app,
                    "category": category,
                    "note": None,
                    "updated_at": NOW,
                    "updated_by": CURATOR,
                }
                for app, category in rows.items()
            ],
        )


async def put_guardian(runtime: Runtime, child: uuid.UUID, app: str, category: str) -> None:
    async with transaction(runtime.sessions) as session:
        await repository.set_child_category(
            session, child, app, category=category, by=GUARDIAN, now=NOW
        )


async def test_categories_for_reads_each_source_once_for_all_apps(runtime: Runtime) -> None:
    child, other_child = uuid.uuid4(), uuid.uuid4()
    await put_catalogue(runtime, {"org.example.game": "games", "org.example.chat": "messaging"})
    await put_guardian(runtime, child, "org.example.chat", "education")
    await put_guardian(runtime, other_child, "org.example.game", "video")  # not this child's
    apps = ["org.example.game", "org.example.chat", "org.example.unknown"] + [
        f"org.example.many{i}" for i in range(900)
    ]

    async with runtime.sessions() as session:
        with counted(runtime) as statements:
            found = await categories_for(session, child, apps)
        assert len(statements) == 2, statements
        assert found["org.example.game"] is Category.GAMES
        assert found["org.example.chat"] is Category.EDUCATION
        assert found["org.example.unknown"] is Category.OTHER
        assert set(found) == set(apps)
        assert (await resolve(session, other_child, ["org.example.game"]))[
            "org.example.game"
        ] == Categorised(Category.VIDEO, Source.GUARDIAN)
        with counted(runtime) as statements:
            assert await categories_for(session, child, []) == {}
        assert statements == []


async def test_erasing_a_child_removes_only_its_guardian_categories(runtime: Runtime) -> None:
    child, other_child = uuid.uuid4(), uuid.uuid4()
    await put_guardian(runtime, child, "org.example.game", "video")
    await put_guardian(runtime, child, "org.example.chat", "social")
    await put_guardian(runtime, other_child, "org.example.game", "video")
    async with transaction(runtime.sessions) as session:
        assert await catalogue_service.erase_child(session, child) == {"child_app_categories": 2}
    async with runtime.sessions() as session:
        assert await repository.child_categories(session, child) == {}
        assert await repository.child_categories(session, other_child) == {
            "org.example.game": "video"
        }
