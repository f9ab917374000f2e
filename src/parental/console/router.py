"""The console's routes under ``/console`` and its static files, for the application factory."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from parental.console import (
    auth_pages,
    curation_pages,
    overview_pages,
    review_pages,
    source_pages,
)
from parental.console.web import HERE, PREFIX
from parental.kit.http import allow_larger_body


def console_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("")
    async def console_root() -> RedirectResponse:
        """The dashboard lives at ``/console/``."""
        return RedirectResponse(PREFIX + "/", status_code=308)

    for pages in (auth_pages, overview_pages, curation_pages, review_pages, source_pages):
        router.include_router(pages.router)
    return router


def install(app: FastAPI) -> None:
    """Serve the console's pages and its two static files (no CDN, no build step)."""
    app.include_router(console_router())
    for method, path, max_bytes in source_pages.LARGER_BODIES:
        allow_larger_body(app, method, PREFIX + path, max_bytes)
    app.mount(
        PREFIX + "/static",
        StaticFiles(directory=HERE / "static", follow_symlink=False),
        name="console-static",
    )
