"""Blocklist sources: adding one by URL or for uploads, its settings, importing a list into it
and refreshing it, and the reports of its imports."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from filters.curation import categories, sources
from filters.curation.errors import InvalidList
from filters.curation.schemas import SourceCreate, SourceUpdate
from filters.engine.rules import Format
from parental.console import actions
from parental.console.web import CheckedForm, ConsoleRoute, SignedIn, field, render, see_other
from parental.deps import ClientIP, RuntimeDep, SessionDep

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

IMPORTS_SHOWN = 20
FORMATS = [f.value for f in Format]


class _UploadedBody:
    """What the admin API's import route reads of its request: the list's bytes. The console
    hands it the uploaded file this way, so the import runs through that route unchanged."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def body(self) -> bytes:
        return self._data


@router.get("/sources")
async def show_sources(
    request: Request, signed: SignedIn, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Every source, its size, format, schedule and how its last refresh went."""
    return render(
        request,
        "sources.html",
        {
            "sources": await sources.list_sources(session),
            "categories": await categories.list_categories(session, now=runtime.clock.now()),
            "formats": FORMATS,
        },
    )


def _interval(form: CheckedForm) -> int | None:
    hours = field(form, "refresh_hours")
    if hours is None:
        return None
    try:
        return int(float(hours) * 3600)
    except ValueError:
        return -1  # refused by the schema's bounds, with its message


@router.post("/sources")
async def add_source(
    signed: SignedIn, form: CheckedForm, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> Response:
    """Add a source: a URL refreshed on a schedule, or one that takes uploads."""
    url = field(form, "url")
    body = SourceCreate.model_validate(
        {
            "name": field(form, "name") or "",
            "category": field(form, "category") or "",
            "kind": "url" if url else "file",
            "url": url,
            "format": field(form, "format"),
            "refresh_interval_seconds": _interval(form) if url else None,
            "auto_publish": field(form, "auto_publish") == "on",
            "licence": field(form, "licence"),
        }
    )
    staff = actions.curator(session, signed.staff, runtime, ip)
    read = await actions.endpoint("create_filter_source")(body=body, staff=staff)
    return see_other(f"/sources/{read.id}", notice="source_added")


@router.get("/sources/{source_id}")
async def show_source(
    request: Request,
    source_id: uuid.UUID,
    signed: SignedIn,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = IMPORTS_SHOWN,
) -> Response:
    """One source with its latest imports and their line reports."""
    row = await sources.get(session, source_id)
    history = await sources.imports(session, row, limit=limit)
    return render(
        request,
        "source.html",
        {
            "source": await sources.read(session, row),
            "imports": history,
            "formats": FORMATS,
            "who": await actions.staff_names(session, {i.actor for i in history}),
        },
    )


@router.post("/sources/{source_id}")
async def update_source(
    source_id: uuid.UUID,
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """Change the format, licence, schedule, enabled state or auto-publishing."""
    row = await sources.get(session, source_id)
    changes: dict[str, object] = {
        "enabled": field(form, "enabled") == "on",
        "format": field(form, "format"),
    }
    if "licence" in form:
        changes["licence"] = field(form, "licence")  # empty: none stated
    if row.kind == "url":
        changes["refresh_interval_seconds"] = _interval(form)
        changes["auto_publish"] = field(form, "auto_publish") == "on"
    body = SourceUpdate.model_validate(changes)
    staff = actions.curator(session, signed.staff, runtime, ip)
    await actions.endpoint("update_filter_source")(source_id=source_id, body=body, staff=staff)
    return see_other(f"/sources/{source_id}", notice="source_updated")


@router.post("/sources/{source_id}/import")
async def import_list(
    source_id: uuid.UUID,
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """Replace the source's draft with an uploaded list; shows the line report."""
    upload = form.get("list")
    if not isinstance(upload, UploadFile):
        raise InvalidList("Choose a list file to upload.")
    data = await upload.read()
    chosen = field(form, "format")
    try:
        fmt = Format(chosen) if chosen else None
    except ValueError as exc:
        raise InvalidList(f"Unknown format {chosen!r}.") from exc
    staff = actions.curator(session, signed.staff, runtime, ip)
    await actions.endpoint("create_filter_import")(
        source_id=source_id,
        request=_UploadedBody(data),
        staff=staff,
        format=fmt,
    )
    return see_other(f"/sources/{source_id}", notice="imported")


@router.post("/sources/{source_id}/refresh")
async def refresh_source(
    source_id: uuid.UUID,
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """Fetch a URL source's list now and import it if it changed."""
    staff = actions.curator(session, signed.staff, runtime, ip)
    await actions.endpoint("refresh_filter_source")(source_id=source_id, staff=staff)
    return see_other(f"/sources/{source_id}", notice="refreshed")
