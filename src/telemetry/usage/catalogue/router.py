"""App catalogue routes: curators list, edit and import the catalogue (``/apps``, mounted under
``/admin/v1``); a guardian lists a child's apps and gives one a category for that child.

As in ``telemetry.usage.rules.router``, the package cannot know who is calling: the composition
root passes dependencies that give a ``Curator`` (a signed-in staff member, whose changes are
audited as theirs; a change of an app's category or ``always_allowed`` wakes the devices of the
children whose policies it may change, ``service.children_with``) or an ``AppsEditor`` (a
guardian of the child, whose reads and changes are checked against the monitoring rules and
audited for the child).
"""

# No `from __future__ import annotations`: the routes below are built inside the factories and
# their annotations name local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.errors import AppError, error_responses
from parental.kit.http import larger_body
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from telemetry.usage.callers import ChildCaller
from telemetry.usage.catalogue import service
from telemetry.usage.catalogue.errors import AppNotInCatalogue, TooManyAppCategories
from telemetry.usage.catalogue.schemas import (
    CatalogueAppCreate,
    CatalogueAppPage,
    CatalogueAppRead,
    CatalogueImport,
    CatalogueImportResult,
    ChildAppCategoryCreate,
    ChildAppList,
    ChildAppRead,
)
from telemetry.usage.policy import Category
from telemetry.usage.service import valid_app

MAX_IMPORT_BYTES = 4 * 1024 * 1024  # 5,000 items with names and notes


class Curator(Protocol):
    """A signed-in curator or admin."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def staff_id(self) -> uuid.UUID: ...

    def now(self) -> datetime: ...

    async def record(
        self, action: str, subject_type: str, subject_id: object, details: dict[str, Any]
    ) -> None:
        """Append an audit event for a change, in the request's transaction."""
        ...

    async def policies_changed(self, child_ids: Collection[uuid.UUID]) -> None:
        """Tell the devices of these children to fetch their screen-time policy now, in the
        request's transaction."""
        ...


async def _tell_children(staff: Curator, apps: Collection[str]) -> None:
    """Wake the devices of the children whose policies a change of ``apps``' rows may change."""
    children = await service.children_with(staff.session, apps)
    if children:
        await staff.policies_changed(children)


class AppsEditor(ChildCaller, Protocol):
    """A guardian of one child."""

    @property
    def account_id(self) -> uuid.UUID: ...

    async def audited(self, action: str, details: dict[str, Any]) -> None:
        """Refuse unless monitoring applies to the child now; record the read or change in the
        audit log the child sees, in the request's transaction."""
        ...


async def checked_app(
    app: Annotated[str, Path(description="Android package or iOS bundle id.")],
) -> str:
    """The app id in the path, if usage uploads would take it (422 otherwise)."""
    if not valid_app(app):
        raise RequestValidationError(
            [
                {
                    "loc": ("path", "app"),
                    "msg": "Value error, not an app id (1 to 255 characters, no whitespace or "
                    "control characters)",
                    "type": "value_error",
                }
            ]
        )
    return app


AppId = Annotated[str, Depends(checked_app)]


def create_admin_router(
    *, curator: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(
        prefix="/apps", tags=["app catalogue"], responses=error_responses(*caller_errors)
    )
    CuratorDep = Annotated[Curator, Depends(curator)]

    @router.get("", responses=error_responses(InvalidCursor))
    async def list_catalogue_apps(
        staff: CuratorDep,
        q: Annotated[
            str | None, Query(max_length=255, description="Part of the app id or name, any case.")
        ] = None,
        category: Category | None = None,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        cursor: CursorQuery = None,
    ) -> CatalogueAppPage:
        """Search the app catalogue by id or name and category, in app id order."""
        return await service.search(
            staff.session, text=q, category=category, limit=limit, cursor=cursor
        )

    @router.post("/import", openapi_extra=larger_body(MAX_IMPORT_BYTES))
    async def create_catalogue_import(
        staff: CuratorDep, body: CatalogueImport
    ) -> CatalogueImportResult:
        """Create or replace up to 5,000 catalogue rows. Each item is created, updated,
        unchanged or rejected with a reason; the valid ones are stored whatever happens to
        the others."""
        imported = await service.import_apps(
            staff.session, body.items, staff_id=staff.staff_id, now=staff.now()
        )
        result = imported.result
        await _tell_children(staff, imported.changed)
        await staff.record(
            "app_catalogue.imported",
            "app_catalogue",
            "import",
            result.model_dump(include={"created", "updated", "unchanged", "rejected"}),
        )
        return result

    @router.get("/{app}", responses=error_responses(AppNotInCatalogue))
    async def get_catalogue_app(staff: CuratorDep, app: AppId) -> CatalogueAppRead:
        """One app's catalogue row."""
        return service.catalogue_read(await service.get(staff.session, app))

    @router.put(
        "/{app}",
        responses={201: {"model": CatalogueAppRead, "description": "Created"}},
    )
    async def update_catalogue_app(
        staff: CuratorDep, app: AppId, body: CatalogueAppCreate, response: Response
    ) -> CatalogueAppRead:
        """Create or replace an app's catalogue row: its name, category, whether every
        child's policy always allows it, and note (201 when created). The devices of the
        children it matters to fetch their policy at once."""
        saved = await service.save(
            staff.session, app, body, staff_id=staff.staff_id, now=staff.now()
        )
        if saved.changed:
            await _tell_children(staff, [app])
        await staff.record(
            "app_catalogue.app_saved",
            "app_catalogue",
            app,
            {**body.model_dump(mode="json"), "previous": saved.previous},
        )
        if saved.previous is None:
            response.status_code = status.HTTP_201_CREATED
        return saved.read

    @router.delete(
        "/{app}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=error_responses(AppNotInCatalogue),
    )
    async def delete_catalogue_app(staff: CuratorDep, app: AppId) -> None:
        """Take an app out of the catalogue: it is in other unless a guardian chose otherwise,
        and no longer always allowed."""
        values = await service.delete(staff.session, app)
        if service.affects_policies(values, None):
            await _tell_children(staff, [app])
        await staff.record("app_catalogue.app_deleted", "app_catalogue", app, values)

    return router


def create_guardian_router(
    *, editor: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(
        prefix="/children/{child_id}/apps",
        tags=["screen time"],
        responses=error_responses(*caller_errors),
    )
    EditorDep = Annotated[AppsEditor, Depends(editor)]

    @router.get("")
    async def list_child_apps(guardian: EditorDep) -> ChildAppList:
        """The child's apps (those the child's devices reported, those the rules name and those
        a guardian categorised) with each one's category and where it comes from. The child's
        device shows that the guardian looked."""
        await guardian.audited("apps.viewed", {})
        return await service.child_apps(guardian.session, guardian.child_id)

    @router.put("/{app}/category", responses=error_responses(TooManyAppCategories))
    async def update_child_app_category(
        guardian: EditorDep, app: AppId, body: ChildAppCategoryCreate
    ) -> ChildAppRead:
        """Put one app in a category for this child only, whatever the catalogue says; its
        screen-time category limit applies to it. The child's device shows the change."""
        read, previous = await service.set_child_category(
            guardian.session,
            guardian.child_id,
            app,
            body.category,
            by=guardian.account_id,
            now=guardian.now(),
        )
        await guardian.audited(
            "apps.category_set",
            {"app": app, "category": body.category.value, "previous": previous},
        )
        return read

    @router.delete("/{app}/category", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_child_app_category(guardian: EditorDep, app: AppId) -> None:
        """Give the app back the catalogue's category (nothing happens if the guardians never
        chose one). The child's device shows the change."""
        previous = await service.clear_child_category(guardian.session, guardian.child_id, app)
        if previous is not None:
            await guardian.audited("apps.category_cleared", {"app": app, "previous": previous})

    return router
