"""Blocklist sources: adding one by URL or for uploads, its settings, importing a list into it
and refreshing it (in the background: ``import_jobs``), the progress of that import and the
reports of the imports."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from filters.curation import categories, jobs, sources
from filters.curation.errors import ImportRefused, InvalidList, NotRefreshable
from filters.curation.schemas import SourceCreate, SourceUpdate
from filters.engine.rules import Format
from parental.console import actions, import_jobs
from parental.console.web import CheckedForm, ConsoleRoute, SignedIn, field, render, see_other
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.kit.errors import NotFound

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

IMPORTS_SHOWN = 20
FORMATS = [f.value for f in Format]
# The admin API's import route takes lists up to this size; the form's fields and boundaries
# around the file come on top.
UPLOAD_LIMIT = sources.MAX_LIST_BYTES + 64 * 1024
# Routes that take bodies over the app's limit (the console's install declares them).
LARGER_BODIES = [("POST", "/sources/{source_id}/import", UPLOAD_LIMIT)]


class ImportJobNotFound(NotFound):
    message = "No such import of this source."


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
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100)] = IMPORTS_SHOWN,
) -> Response:
    """One source with its latest imports and their line reports, and the import running."""
    row = await sources.get(session, source_id)
    await jobs.sweep(session, row.id, tasks=runtime.imports, now=runtime.clock.now())
    history = await sources.imports(session, row, limit=limit)
    latest = await jobs.latest(session, row.id)
    job = jobs.view(latest, runtime.imports) if latest is not None else None
    actors = {i.actor for i in history} | ({job.actor} if job else set())
    return render(
        request,
        "source.html",
        {
            "source": await sources.read(session, row),
            "imports": history,
            "job": job,
            "source_id": row.id,
            "formats": FORMATS,
            "who": await actions.staff_names(session, actors),
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
    """Start importing an uploaded list into the source's draft; the page shows its progress."""
    upload = form.get("list")
    if not isinstance(upload, UploadFile):
        raise InvalidList("Choose a list file to upload.")
    if upload.size is not None and upload.size > sources.MAX_LIST_BYTES:
        raise InvalidList(f"The list is larger than {sources.MAX_LIST_BYTES} bytes.")
    chosen = field(form, "format")
    try:
        fmt = Format(chosen) if chosen else None
    except ValueError as exc:
        raise InvalidList(f"Unknown format {chosen!r}.") from exc
    row = await sources.get(session, source_id)
    if row.kind == "manual":
        raise ImportRefused()
    await import_jobs.start_upload(
        session, runtime, row, staff_id=signed.staff.id, ip=ip, data=await upload.read(), fmt=fmt
    )
    return see_other(f"/sources/{source_id}", notice="import_started")


@router.post("/sources/{source_id}/refresh")
async def refresh_source(
    source_id: uuid.UUID,
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """Start fetching a URL source's list and importing it if it changed."""
    row = await sources.get(session, source_id)
    if row.kind != "url":
        raise NotRefreshable()
    await import_jobs.start_refresh(session, runtime, row, staff_id=signed.staff.id, ip=ip)
    return see_other(f"/sources/{source_id}", notice="refresh_started")


@router.get("/sources/{source_id}/jobs/{job_id}")
async def show_import_job(
    request: Request,
    source_id: uuid.UUID,
    job_id: uuid.UUID,
    signed: SignedIn,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """One background import's progress, or its report once it ended: the part of the source
    page that its script polls every second."""
    await jobs.sweep(session, source_id, tasks=runtime.imports, now=runtime.clock.now())
    row = await jobs.get(session, source_id, job_id)
    if row is None:
        raise ImportJobNotFound()
    job = jobs.view(row, runtime.imports)
    return render(
        request,
        "import_job.html",
        {
            "job": job,
            "source_id": source_id,
            "who": await actions.staff_names(session, {job.actor}),
        },
    )
