"""Curators' edits of the app catalogue, and the categories a guardian gives a child's apps.

- The catalogue is keyed by app id as usage uploads take it (``service.valid_app``). A row is
  written whole; an import writes each valid item as a ``PUT`` would and reports per item
  ``created``, ``updated``, ``unchanged`` (the same name, category and note) or ``rejected``
  with a reason; repeating an app id within one import rejects the later items.
- A guardian's category for an app holds for that child only and wins over the catalogue's
  (``telemetry.usage.catalogue.lookup``); removing it gives the app back to the catalogue. A child
  has at most ``MAX_CHILD_CATEGORIES`` of them, so the device's policy reads them all at once.
- A child's apps, as the guardian lists them: those the child's devices reported, those the
  child's screen-time rules name and those a guardian categorised.
- A catalogue change that changes what a row does to children's policies (its category or
  ``always_allowed``; a row missing is ``other``, not always allowed) names the apps it
  changed (``Saved.changed``, ``Imported.changed``, ``affects_policies``), and
  ``children_with`` finds the children whose policies they may change: those with screen-time
  rules whose devices reported one of the apps, and those whose rules name one. (A child
  without rules has no limit, pause or downtime for them to change; the only thing a mark can
  change there, a declined install now allowed, is seen at the device's next poll.)

Services run in the caller's transaction and never commit.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.paging import InvalidCursor
from telemetry.usage.catalogue import repository
from telemetry.usage.catalogue.errors import AppNotInCatalogue, TooManyAppCategories
from telemetry.usage.catalogue.lookup import as_category, precedence
from telemetry.usage.catalogue.models import MAX_NOTE, AppCatalogueEntry
from telemetry.usage.catalogue.schemas import (
    CatalogueAppCreate,
    CatalogueAppPage,
    CatalogueAppRead,
    CatalogueImportItem,
    CatalogueImportItemResult,
    CatalogueImportResult,
    ChildAppList,
    ChildAppRead,
    ImportRejectReason,
    ImportStatus,
)
from telemetry.usage.policy import Category
from telemetry.usage.rules.models import ScreenTimePolicy
from telemetry.usage.service import MAX_APP_NAME, label, valid_app

MAX_CHILD_CATEGORIES = 1000


# --- the catalogue ----------------------------------------------------------------------


def catalogue_read(row: AppCatalogueEntry) -> CatalogueAppRead:
    return CatalogueAppRead(
        app=row.app,
        name=row.name,
        category=as_category(row.category) or Category.OTHER,
        always_allowed=row.always_allowed,
        note=row.note,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _values(row: AppCatalogueEntry) -> dict[str, Any]:
    """What a curator sets, as the audit log keeps it."""
    return {
        "name": row.name,
        "category": row.category,
        "always_allowed": row.always_allowed,
        "note": row.note,
    }


def _effect(values: Mapping[str, Any] | None) -> tuple[Category, bool]:
    """What a row's values do to a child's policy: the app's category and mark (no row: other,
    not always allowed)."""
    if values is None:
        return Category.OTHER, False
    return as_category(values["category"]) or Category.OTHER, bool(values["always_allowed"])


def affects_policies(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> bool:
    """Whether a row going from ``before`` to ``after`` (None: no row) may change children's
    policies (pure)."""
    return _effect(before) != _effect(after)


def encode_cursor(app: str) -> str:
    return base64.urlsafe_b64encode(app.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        app = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if not valid_app(app):
        raise InvalidCursor()
    return app


async def search(
    session: AsyncSession,
    *,
    text: str | None,
    category: Category | None,
    limit: int,
    cursor: str | None,
) -> CatalogueAppPage:
    """A page of the catalogue in app id order, optionally only the rows whose id or name
    holds ``text`` (any case) and only those of ``category``."""
    rows = await repository.search(
        session,
        text=text.strip() if text else None,
        category=category,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    page = rows[:limit]
    return CatalogueAppPage(
        items=[catalogue_read(row) for row in page],
        next_cursor=encode_cursor(page[-1].app) if len(rows) > limit else None,
    )


async def get(session: AsyncSession, app: str) -> AppCatalogueEntry:
    row = await repository.entry(session, app)
    if row is None:
        raise AppNotInCatalogue()
    return row


def _row(app: str, body: CatalogueAppCreate, staff_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    return {
        "app": app,
        "name": body.name,
        "category": body.category.value,
        "always_allowed": body.always_allowed,
        "note": body.note,
        "updated_at": now,
        "updated_by": staff_id,
    }


@dataclass(frozen=True)
class Saved:
    read: CatalogueAppRead
    previous: dict[str, Any] | None  # the row's values before; None: created
    changed: bool  # whether children's policies may change (module doc)


async def save(
    session: AsyncSession, app: str, body: CatalogueAppCreate, *, staff_id: uuid.UUID, now: datetime
) -> Saved:
    """Create or replace the app's row (``app`` checked with ``valid_app`` by the caller)."""
    before = await repository.entry(session, app)
    previous = None if before is None else _values(before)
    await repository.upsert(session, [_row(app, body, staff_id, now)])
    row = await get(session, app)
    return Saved(catalogue_read(row), previous, affects_policies(previous, _values(row)))


async def delete(session: AsyncSession, app: str) -> dict[str, Any]:
    """Delete the app's row; its values as they were. Guardians' categories for it stay."""
    row = await get(session, app)
    values = _values(row)
    await repository.delete_entry(session, app)
    return values


def judge(item: CatalogueImportItem) -> CatalogueAppCreate | ImportRejectReason:
    """An import item as the row it writes, or why it may not be written (pure)."""
    if not valid_app(item.app):
        return ImportRejectReason.INVALID_APP
    name = label(item.name)
    if name is None or len(item.name) > MAX_APP_NAME:
        return ImportRejectReason.INVALID_NAME
    category = as_category(item.category)
    if category is None:
        return ImportRejectReason.INVALID_CATEGORY
    if item.note is not None and len(item.note) > MAX_NOTE:
        return ImportRejectReason.INVALID_NOTE
    return CatalogueAppCreate(
        name=name, category=category, always_allowed=item.always_allowed, note=item.note
    )


@dataclass(frozen=True)
class Imported:
    result: CatalogueImportResult
    changed: frozenset[str]  # the apps whose rows may change children's policies (module doc)


async def import_apps(
    session: AsyncSession,
    items: Sequence[CatalogueImportItem],
    *,
    staff_id: uuid.UUID,
    now: datetime,
) -> Imported:
    """Write every valid item of an import (module doc); one verdict per item."""
    verdicts: list[tuple[ImportStatus, ImportRejectReason | None]] = []
    valid: dict[str, tuple[int, CatalogueAppCreate]] = {}
    for index, item in enumerate(items):
        judged = judge(item)
        if isinstance(judged, ImportRejectReason):
            verdicts.append((ImportStatus.REJECTED, judged))
        elif item.app in valid:
            verdicts.append((ImportStatus.REJECTED, ImportRejectReason.DUPLICATE))
        else:
            valid[item.app] = (index, judged)
            verdicts.append((ImportStatus.UNCHANGED, None))  # settled below
    stored = await repository.entries(session, valid)
    rows = []
    changed: set[str] = set()
    for app, (index, body) in valid.items():
        before = stored.get(app)
        after = {**body.model_dump(), "category": body.category.value}
        if before is None:
            verdicts[index] = (ImportStatus.CREATED, None)
        elif _values(before) != after:
            verdicts[index] = (ImportStatus.UPDATED, None)
        else:
            continue
        if affects_policies(None if before is None else _values(before), after):
            changed.add(app)
        rows.append(_row(app, body, staff_id, now))
    await repository.upsert(session, rows)
    counts = dict.fromkeys(ImportStatus, 0)
    for status, _ in verdicts:
        counts[status] += 1
    result = CatalogueImportResult(
        created=counts[ImportStatus.CREATED],
        updated=counts[ImportStatus.UPDATED],
        unchanged=counts[ImportStatus.UNCHANGED],
        rejected=counts[ImportStatus.REJECTED],
        items=[
            CatalogueImportItemResult(index=i, app=item.app, status=status, reason=reason)
            for i, (item, (status, reason)) in enumerate(zip(items, verdicts, strict=True))
        ],
    )
    return Imported(result, frozenset(changed))


async def children_with(session: AsyncSession, apps: Collection[str]) -> set[uuid.UUID]:
    """The children whose policies a change of ``apps``' rows may change (module doc)."""
    if not apps:
        return set()
    found = await repository.children_with_reported(session, apps)
    wanted = set(apps)
    for child_id, rules in await repository.rules_mentioning(session, _json_forms(apps)):
        if _named_apps(rules) & wanted:
            found.add(child_id)
    return found


def _json_forms(apps: Iterable[str]) -> list[str]:
    """Each app id as a JSON string, as PostgreSQL shows JSONB (raw UTF-8) and as SQLite keeps
    JSON (non-ASCII escaped): to find the rules that may name it."""
    return sorted(
        {json.dumps(app, ensure_ascii=escaped) for app in apps for escaped in (True, False)}
    )


# --- a child's apps ---------------------------------------------------------------------


def _named_apps(rules: Mapping[str, Any]) -> set[str]:
    """The apps stored screen-time rules name (limits, always allowed, blocked)."""
    return {
        *rules.get("app_limits", {}),
        *rules.get("always_allowed", []),
        *rules.get("blocked", []),
    }


async def _rules_apps(session: AsyncSession, child_id: uuid.UUID) -> set[str]:
    """The apps the child's screen-time rules name (limits, always allowed, blocked)."""
    row = await session.get(ScreenTimePolicy, child_id)
    return set() if row is None else _named_apps(row.rules)


async def child_apps(session: AsyncSession, child_id: uuid.UUID) -> ChildAppList:
    """The child's known apps with their names and categories (module doc)."""
    reported = await repository.reported_app_names(session, child_id)
    guardian = await repository.child_categories(session, child_id)
    apps = {*reported, *guardian, *await _rules_apps(session, child_id)}
    listed = await repository.entries(session, apps)
    found = precedence(
        apps, guardian=guardian, catalogue={app: row.category for app, row in listed.items()}
    )
    return ChildAppList(
        items=[
            ChildAppRead(
                app=app,
                name=reported.get(app) or (listed[app].name if app in listed else None),
                category=found[app].category,
                source=found[app].source,
            )
            for app in sorted(apps)
        ]
    )


async def child_app(session: AsyncSession, child_id: uuid.UUID, app: str) -> ChildAppRead:
    """One app of the child, as ``child_apps`` shows it (known to the child or not)."""
    reported = await repository.reported_app_names(session, child_id)
    override = await repository.child_category(session, child_id, app)
    listed = await repository.entries(session, [app])
    found = precedence(
        [app],
        guardian={} if override is None else {app: override.category},
        catalogue={app: row.category for app, row in listed.items()},
    )[app]
    return ChildAppRead(
        app=app,
        name=reported.get(app) or (listed[app].name if app in listed else None),
        category=found.category,
        source=found.source,
    )


async def set_child_category(
    session: AsyncSession,
    child_id: uuid.UUID,
    app: str,
    category: Category,
    *,
    by: uuid.UUID,
    now: datetime,
) -> tuple[ChildAppRead, Category | None]:
    """Give the child's app ``category`` for this child; the app as it now reads, and the
    guardian's category it had before (None: it had none)."""
    before = await repository.child_category(session, child_id, app)
    if before is None and (
        await repository.count_child_categories(session, child_id) >= MAX_CHILD_CATEGORIES
    ):
        raise TooManyAppCategories()
    previous = None if before is None else as_category(before.category)
    await repository.set_child_category(
        session, child_id, app, category=category.value, by=by, now=now
    )
    return await child_app(session, child_id, app), previous


async def clear_child_category(
    session: AsyncSession, child_id: uuid.UUID, app: str
) -> Category | None:
    """Give the child's app back to the catalogue; the guardian's category it had (None: it
    had none, and nothing changed)."""
    before = await repository.child_category(session, child_id, app)
    if before is None:
        return None
    await repository.clear_child_category(session, child_id, app)
    return as_category(before.category) or Category.OTHER


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    """Delete a removed child's guardian categories; how many rows went."""
    count = await repository.erase_child(session, child_id)
    return {"child_app_categories": count} if count else {}
