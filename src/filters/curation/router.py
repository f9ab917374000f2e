"""``/filter/...`` for curators: categories, sources, imports and refreshes, single entries,
versions. The package cannot know who may curate or how to write the audit log: the
composition root passes a dependency that authenticates the caller and gives a ``Curator``.
Every change is recorded through it, in the same transaction as the change."""

# No `from __future__ import annotations`: the routes below are built inside create_router and
# their annotations name its local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi import Path as PathParam

from filters.curation import (
    categories,
    entries,
    imports,
    publishing,
    refresh,
    service,
    sources,
    versions,
)
from filters.curation.errors import (
    BuiltinCategory,
    CategoryExists,
    CategoryInUse,
    CategoryNotFound,
    EntryNotFound,
    ImportRefused,
    InvalidEntry,
    InvalidList,
    InvalidSource,
    NothingToPublish,
    NotRefreshable,
    RefreshFailed,
    SourceExists,
    SourceNotFound,
    SourcePublished,
    VersionNotFound,
)
from filters.curation.schemas import (
    CategoryCreate,
    CategoryList,
    CategoryRead,
    CategoryUpdate,
    EntryCreate,
    EntryHistory,
    EntryPage,
    EntryRead,
    EntryRemove,
    ImportList,
    ImportRead,
    RefreshRead,
    SourceCreate,
    SourceList,
    SourceRead,
    SourceUpdate,
    VersionCreate,
    VersionDiffRead,
    VersionList,
    VersionRead,
)
from filters.engine.rules import Format
from parental.kit.errors import AppError, error_responses
from parental.kit.http import larger_body
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery


class Curator(imports.Importer, Protocol):
    """A signed-in curator, with the request's session and the process's snapshot store."""

    async def activate(self, number: int) -> None:
        """Put a committed version in force in every process."""
        ...


MAX_DIFF_RULES = 1000
# Version numbers are an INTEGER column: a larger one is refused here (422), not sent to the
# database, where it overflowed into a 500.
MAX_VERSION = 2**31 - 1
VersionNumber = Annotated[int, PathParam(ge=0, le=MAX_VERSION)]

_LIST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The list, as published (UTF-8): hosts, domains, wildcard, AdBlock, RPZ "
        "or UT1.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    **larger_body(sources.MAX_LIST_BYTES),
}


def create_router(
    *, curator: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(
        prefix="/filter", tags=["curation"], responses=error_responses(*caller_errors)
    )
    CuratorDep = Annotated[Curator, Depends(curator)]

    # --- categories ---------------------------------------------------------------------

    @router.get("/categories")
    async def list_filter_categories(staff: CuratorDep) -> CategoryList:
        """Every category with its texts in kk/ru/en and its default per age band."""
        return CategoryList(items=await categories.list_categories(staff.session, now=staff.now()))

    @router.post(
        "/categories",
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(CategoryExists),
    )
    async def create_filter_category(body: CategoryCreate, staff: CuratorDep) -> CategoryRead:
        """Add a curators' category (block or allow) with its texts and age-band defaults."""
        row = await categories.create(staff.session, body, now=staff.now())
        await staff.record(
            "curation.category_created", "filter_category", row.key, body.model_dump(mode="json")
        )
        return await categories.read(staff.session, row)

    @router.patch(
        "/categories/{key}",
        responses=error_responses(CategoryNotFound, BuiltinCategory, CategoryInUse),
    )
    async def update_filter_category(
        key: str, body: CategoryUpdate, staff: CuratorDep
    ) -> CategoryRead:
        """Change a category's texts or defaults (a curators' unused category: its kind)."""
        row = await categories.get(staff.session, key, now=staff.now())
        changed = await categories.update(staff.session, row, body)
        await staff.record("curation.category_updated", "filter_category", key, changed)
        return await categories.read(staff.session, row)

    @router.delete(
        "/categories/{key}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=error_responses(CategoryNotFound, BuiltinCategory, CategoryInUse),
    )
    async def delete_filter_category(key: str, staff: CuratorDep) -> None:
        """Delete a curators' category that no source uses; built-in ones stay."""
        row = await categories.get(staff.session, key, now=staff.now())
        await categories.delete(staff.session, row)
        await staff.record("curation.category_deleted", "filter_category", key, {})

    # --- sources ------------------------------------------------------------------------

    @router.get("/sources")
    async def list_filter_sources(staff: CuratorDep) -> SourceList:
        """Every source: draft size, last import report, refresh status and last error."""
        return SourceList(items=await sources.list_sources(staff.session))

    @router.post(
        "/sources",
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(CategoryNotFound, SourceExists, InvalidSource),
    )
    async def create_filter_source(body: SourceCreate, staff: CuratorDep) -> SourceRead:
        """Add a source: a URL refreshed on an interval, a file imported by hand, or manual."""
        row = await sources.create(staff.session, body, now=staff.now(), egress=staff.egress)
        await staff.record(
            "curation.source_created", "filter_source", row.id, body.model_dump(mode="json")
        )
        return await sources.read(staff.session, row)

    @router.get("/sources/{source_id}", responses=error_responses(SourceNotFound))
    async def get_filter_source(source_id: uuid.UUID, staff: CuratorDep) -> SourceRead:
        """One source and how its last import or refresh went."""
        return await sources.read(staff.session, await sources.get(staff.session, source_id))

    @router.patch(
        "/sources/{source_id}",
        responses=error_responses(SourceNotFound, SourceExists, InvalidSource),
    )
    async def update_filter_source(
        source_id: uuid.UUID, body: SourceUpdate, staff: CuratorDep
    ) -> SourceRead:
        """Rename, enable or disable, or change the URL, format, interval or auto-publishing."""
        row = await sources.get(staff.session, source_id)
        changed = await sources.update(
            staff.session, row, body, now=staff.now(), egress=staff.egress
        )
        await staff.record("curation.source_updated", "filter_source", row.id, changed)
        return await sources.read(staff.session, row)

    @router.delete(
        "/sources/{source_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=error_responses(SourceNotFound, SourcePublished),
    )
    async def delete_filter_source(source_id: uuid.UUID, staff: CuratorDep) -> None:
        """Delete a source no published version holds (otherwise, disable it)."""
        row = await sources.get(staff.session, source_id)
        await sources.delete(staff.session, row)
        await staff.record(
            "curation.source_deleted", "filter_source", source_id, {"name": row.name}
        )

    @router.post(
        "/sources/{source_id}/imports",
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(SourceNotFound, ImportRefused, InvalidList),
        openapi_extra=_LIST_BODY,
    )
    async def create_filter_import(
        source_id: uuid.UUID,
        request: Request,
        staff: CuratorDep,
        format: Annotated[
            Format | None, Query(description="The list's format; detected if left out.")
        ] = None,
    ) -> ImportRead:
        """Replace the source's draft with the list in the body; answers the line report."""
        return await imports.upload(staff, source_id, await request.body(), fmt=format)

    @router.get("/sources/{source_id}/imports", responses=error_responses(SourceNotFound))
    async def list_filter_imports(
        source_id: uuid.UUID, staff: CuratorDep, limit: LimitQuery = DEFAULT_PAGE_SIZE
    ) -> ImportList:
        """The source's latest imports (uploads, refreshes that changed it, CLI), newest first."""
        row = await sources.get(staff.session, source_id)
        rows = await sources.imports(staff.session, row, limit=limit)
        return ImportList(items=[ImportRead.model_validate(i, from_attributes=True) for i in rows])

    @router.post(
        "/sources/{source_id}/refresh",
        responses=error_responses(SourceNotFound, NotRefreshable, RefreshFailed),
    )
    async def refresh_filter_source(source_id: uuid.UUID, staff: CuratorDep) -> RefreshRead:
        """Fetch a URL source's list now (a conditional GET) and import it if it changed."""
        refreshed = await imports.refresh_now(staff, source_id)
        row, result = refreshed.source, refreshed.result
        if result.outcome is refresh.Outcome.FAILED:
            raise RefreshFailed(f"{RefreshFailed.message} ({result.error})")
        if result.version is not None:
            await staff.session.commit()
            await staff.activate(result.version.number)
        return RefreshRead(
            outcome=result.outcome.value,  # type: ignore[arg-type]  # FAILED raised above
            source=await sources.read(staff.session, row),
            imported=sources.import_read(result.imported)
            if result.imported and result.imported.record
            else None,
            published_version=result.version.number if result.version else None,
        )

    # --- entries ------------------------------------------------------------------------

    @router.get(
        "/entries",
        responses=error_responses(SourceNotFound, CategoryNotFound, InvalidEntry, InvalidCursor),
    )
    async def list_blocklist_entries(
        staff: CuratorDep,
        contains: Annotated[
            str | None, Query(max_length=253, description="Part of the host name.")
        ] = None,
        suffix: Annotated[
            str | None, Query(max_length=253, description="A name and its subdomains.")
        ] = None,
        source_id: uuid.UUID | None = None,
        category: Annotated[str | None, Query(max_length=40)] = None,
        state: Annotated[
            Literal["live", "draft", "pending", "removed"] | None,
            Query(
                description="live: in the version in force; draft: what the next publish "
                "holds; pending: changes waiting for it; removed."
            ),
        ] = None,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        cursor: CursorQuery = None,
    ) -> EntryPage:
        """Search the rules of every source, newest first."""
        return await entries.search(
            staff.session,
            contains=contains,
            suffix=suffix,
            source_id=source_id,
            category=category,
            state=state,
            limit=limit,
            cursor=cursor,
        )

    @router.post(
        "/entries",
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(SourceNotFound, CategoryNotFound, InvalidEntry),
    )
    async def create_blocklist_entry(body: EntryCreate, staff: CuratorDep) -> EntryRead:
        """Block or allow one name or URL, with a reason, in the draft of a source."""
        row, _ = await entries.add(staff.session, body, actor=staff.actor, now=staff.now())
        read = await entries.read(staff.session, row)
        await staff.record(
            "curation.entry_added",
            "filter_entry",
            row.id,
            {
                "source": read.source_name,
                "host": row.host,
                "path": row.path,
                "action": row.action,
                "reason": body.reason,
            },
        )
        return read

    @router.get("/entries/{entry_id}", responses=error_responses(EntryNotFound))
    async def get_blocklist_entry(entry_id: uuid.UUID, staff: CuratorDep) -> EntryHistory:
        """One entry's history: who added it (which import and line), versions, removal."""
        return await entries.history(staff.session, await entries.get(staff.session, entry_id))

    @router.delete("/entries/{entry_id}", responses=error_responses(EntryNotFound))
    async def remove_blocklist_entry(
        entry_id: uuid.UUID, body: EntryRemove, staff: CuratorDep
    ) -> EntryRead:
        """Take one rule out of the draft, with a reason; it leaves at the next publish."""
        row = await service.remove_entry(
            staff.session, entry_id, actor=staff.actor, reason=body.reason, now=staff.now()
        )
        read = await entries.read(staff.session, row)
        await staff.record(
            "curation.entry_removed",
            "filter_entry",
            row.id,
            {"source": read.source_name, "host": row.host, "path": row.path, "reason": body.reason},
        )
        return read

    # --- versions -----------------------------------------------------------------------

    @router.get("/versions")
    async def list_filter_versions(
        staff: CuratorDep,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        before: Annotated[
            int | None, Query(ge=1, le=MAX_VERSION, description="Versions older than this number.")
        ] = None,
    ) -> VersionList:
        """Published versions, newest first."""
        return await versions.list_versions(staff.session, limit=limit, before=before)

    @router.post(
        "/versions",
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(NothingToPublish),
    )
    async def create_filter_version(body: VersionCreate, staff: CuratorDep) -> VersionRead:
        """Publish the draft: compile it, commit, and put it in force in every process."""
        row = await publishing.publish(
            staff.session,
            snapshot_path=staff.snapshot_path,
            actor=staff.actor,
            now=staff.now(),
            note=body.note,
        )
        await staff.record(
            "curation.version_published", "filter_version", row.number, {"counts": row.counts}
        )
        await staff.session.commit()
        await staff.activate(row.number)
        return versions.version_read(row)

    @router.get("/versions/{number}", responses=error_responses(VersionNotFound))
    async def get_filter_version(number: VersionNumber, staff: CuratorDep) -> VersionRead:
        """One published version: who, when, why, what it was made of."""
        return versions.version_read(await versions.get(staff.session, number))

    @router.get("/versions/{number}/diff", responses=error_responses(VersionNotFound))
    async def get_filter_version_diff(
        number: VersionNumber,
        staff: CuratorDep,
        base: Annotated[
            int | None,
            Query(
                ge=0, le=MAX_VERSION, description="Compare with this version; default: previous."
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_DIFF_RULES)] = 100,
    ) -> VersionDiffRead:
        """Rules added and removed between two versions (at most ``limit`` each, with totals)."""
        return await versions.diff(
            staff.session, number - 1 if base is None else base, number, limit=limit
        )

    @router.post(
        "/versions/{number}/rollback",
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(VersionNotFound, NothingToPublish),
    )
    async def create_filter_rollback(number: VersionNumber, staff: CuratorDep) -> VersionRead:
        """Publish a new version with the content of version ``number``, and put it in force."""
        row = await publishing.rollback(
            staff.session,
            to=number,
            snapshot_path=staff.snapshot_path,
            actor=staff.actor,
            now=staff.now(),
        )
        await staff.record(
            "curation.version_rolled_back", "filter_version", row.number, {"to": number}
        )
        await staff.session.commit()
        await staff.activate(row.number)
        return versions.version_read(row)

    return router
