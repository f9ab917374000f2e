"""The application factory: routers, error handlers, limits and the process's resources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.types import ASGIApp

from filters.check.fast import FastCheck
from parental import __version__, migrate
from parental.admin.router import router as admin_router
from parental.age_policy.router import router as age_policy_router
from parental.alarms import carrier_router as alarms_carrier_router
from parental.alarms import router as alarms_router
from parental.app_categories import app_catalogue_router, child_apps_router
from parental.auth.router import router as auth_router
from parental.children.router import router as children_router
from parental.commands.audio_router import audio_routers
from parental.commands.router import device_router as device_commands_router
from parental.commands.router import guardian_router as child_commands_router
from parental.consent.router import device_router as consent_device_router
from parental.consent.router import guardian_router as consent_guardian_router
from parental.console.router import install as install_console
from parental.console.web import PREFIX as CONSOLE_PREFIX
from parental.conversations import (
    child_messages_router,
    device_messages_router,
    device_mode_router,
)
from parental.curation import curation_router
from parental.devices.router import device_router, guardian_router
from parental.families.router import router as families_router
from parental.filter_activity import router as filter_activity_router
from parental.filter_activity import run_flusher
from parental.filter_reports import admin_router as filter_reports_admin_router
from parental.filter_reports import router as filter_reports_router
from parental.filtering import fast_backend, filter_check_router, profile_router
from parental.health.metrics import router as metrics_router
from parental.health.router import router as health_router
from parental.kit import heap
from parental.kit.headers import CONSOLE_CSP, DOCS_CSP, SecurityHeaders
from parental.kit.http import BodySizeLimit, declare_request_errors, install_error_handlers
from parental.kit.metrics import process_exited
from parental.kit.observe import ObservedRequests
from parental.lexicons import conversation_lexicon_router
from parental.lines.router import router as carrier_router
from parental.location_fast import fast_location_backend, fast_upload_backend
from parental.locations import (
    carrier_locations_router,
    child_locations_router,
    device_locations_router,
)
from parental.notifications.inbox_router import router as inbox_router
from parental.notifications.notify import subscribe as subscribe_notifications
from parental.notifications.preferences.router import router as notification_preferences_router
from parental.notifications.router import router as push_tokens_router
from parental.places import places_router
from parental.rpz import rpz_router
from parental.runtime import Runtime, build_runtime
from parental.screen_time import child_screen_time_router, device_policy_router
from parental.screen_time_requests import (
    child_screen_time_requests_router,
    device_screen_time_requests_router,
)
from parental.settings import get_parental_settings
from parental.unblock_requests import router as unblock_requests_router
from parental.usage import child_usage_router, device_usage_router
from parental.worker import run_forever
from parental.write_limits import declare_in_openapi, limit_writes
from telemetry.locations.fast import FastLatest
from telemetry.locations.fast_upload import PATH as FAST_UPLOAD_PATH
from telemetry.locations.fast_upload import FastUpload

log = logging.getLogger(__name__)

DESCRIPTION = """Backend of a carrier's child-safe SIM.

* `/v1`: the parent app (bearer access token from `/v1/auth/tokens`) and the child's device
  agent (`/v1/device...`, bearer device token from pairing).
* `/carrier/v1`: the carrier's systems (bearer service key).
* `/admin/v1`: curators and admins (bearer staff token); their browser console is at
  `/console` (HTML pages, not described here).

Errors are JSON `{"error": "<Code>", "detail": "<text>"}`; 422 is request validation only.
"""


# The route templates of the requests the fast paths answer without the framework's routing
# (which is what names the template of every other request, for the metrics' labels).
FAST_PATHS = {"/v1/filter/check": "/v1/filter/check", FAST_UPLOAD_PATH: FAST_UPLOAD_PATH}
FAST_PATTERNS = [(r"/v1/children/[^/]+/location", "/v1/children/{child_id}/location")]


def _operation_id(route: APIRoute) -> str:
    return route.name


class _App(FastAPI):
    """FastAPI with the latest position's fast path in front of the framework's own
    middleware (error pages, body limits): a body-less GET answered from a grant needs none of
    it, and a guardian's map asks every few seconds. The fast path hands anything it cannot
    answer, failures included, to the route behind it. The security headers wrap it all, so
    every answer carries them, the fast paths' and the error pages' too. Inside them, every
    request gets its id and, with metrics on, is counted and timed (``kit.observe``)."""

    behind_tls = False
    metrics_enabled = True

    def build_middleware_stack(self) -> ASGIApp:
        docs = [
            p for p in (self.docs_url, self.redoc_url, self.swagger_ui_oauth2_redirect_url) if p
        ]
        return SecurityHeaders(
            ObservedRequests(
                FastLatest(super().build_middleware_stack(), backend=fast_location_backend),
                metrics=self.metrics_enabled,
                fast_paths=FAST_PATHS,
                fast_patterns=FAST_PATTERNS,
            ),
            hsts=self.behind_tls,
            private_prefixes=("/v1/", "/carrier/", "/admin/"),
            by_path=dict.fromkeys(docs, DOCS_CSP),
            private_pages={CONSOLE_PREFIX: CONSOLE_CSP},
        )

    def openapi(self) -> dict[str, Any]:
        return declare_in_openapi(declare_request_errors(super().openapi()))


def attach(app: FastAPI, runtime: Runtime) -> None:
    """Have ``app`` (made by ``create_app``) serve with ``runtime`` from its next start: the
    tests reuse one app for many runtimes of the same settings, since building the app (every
    route's dependencies and models) costs half a second."""
    app.state.given_runtime = runtime
    app.state.runtime = runtime


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """The API. Without ``runtime`` it builds one from the environment when it starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        given: Runtime | None = getattr(app.state, "given_runtime", None)  # see ``attach``
        owned = given is None
        rt = given or build_runtime()
        if owned and rt.is_embedded_sqlite:
            # The embedded default upgrades itself; PostgreSQL is migrated by `parental db upgrade`.
            await migrate.upgrade(rt.engine)
        app.state.runtime = rt
        subscribe_notifications(rt)
        rt.snapshots.refresh()
        subscription = await rt.snapshots.open_notices(rt.notices)
        watcher = asyncio.create_task(rt.snapshots.watch(subscription))
        following = await rt.subjects.listen(rt.notices)
        tasks = [watcher, asyncio.create_task(run_flusher(rt))]
        if owned and rt.is_embedded_sqlite:
            # The embedded default is one process: it does the worker's rounds itself (purges,
            # list refreshes, alarm timers); with PostgreSQL, `parental worker` does them.
            tasks.append(asyncio.create_task(run_forever(rt)))
        app.state.background = tasks
        if owned:
            heap.settle()  # a server process (tests and benchmarks bring their own runtime)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if subscription is not None:
                await subscription.close()
            await following.stop()
            if owned:
                await rt.close()
                process_exited()

    app = _App(
        title="Child-safe SIM API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # No OpenTelemetry: it would record request data and exception texts (children's
        # personal data among them) for exporters outside our control, and checking whether
        # it is configured costs every request more than a verdict.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Every write without a limit of its own counts against its caller (issue 9).
        dependencies=[Depends(limit_writes)],
    )
    if runtime is not None:
        attach(app, runtime)
    install_error_handlers(app)
    settings = runtime.settings if runtime else get_parental_settings()
    app.behind_tls = settings.behind_tls
    app.metrics_enabled = settings.metrics_enabled
    app.add_middleware(FastCheck, path="/v1/filter/check", backend=fast_backend)
    app.add_middleware(FastUpload, backend=fast_upload_backend)  # within the body limit
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    v1 = APIRouter(prefix="/v1")
    for router in (auth_router, families_router, children_router, guardian_router, device_router):
        v1.include_router(router)
    v1.include_router(filter_check_router())
    v1.include_router(profile_router)
    v1.include_router(filter_activity_router)
    v1.include_router(filter_reports_router)
    v1.include_router(unblock_requests_router)
    v1.include_router(device_locations_router())
    v1.include_router(child_locations_router())
    v1.include_router(device_usage_router())
    v1.include_router(child_usage_router())
    v1.include_router(device_policy_router())
    v1.include_router(child_screen_time_router())
    v1.include_router(child_screen_time_requests_router())
    v1.include_router(device_screen_time_requests_router())
    v1.include_router(child_apps_router())
    v1.include_router(alarms_router)
    v1.include_router(places_router())
    v1.include_router(rpz_router())
    v1.include_router(push_tokens_router)
    v1.include_router(inbox_router)
    v1.include_router(notification_preferences_router)
    v1.include_router(child_commands_router)
    v1.include_router(device_commands_router)
    v1.include_router(device_messages_router())
    v1.include_router(device_mode_router)
    v1.include_router(child_messages_router())
    v1.include_router(consent_guardian_router)
    v1.include_router(consent_device_router)
    for router in audio_routers(settings.command_audio_max_bytes):
        v1.include_router(router)
    app.include_router(v1)
    app.include_router(carrier_router, prefix="/carrier/v1")
    app.include_router(carrier_locations_router(), prefix="/carrier/v1")
    app.include_router(alarms_carrier_router, prefix="/carrier/v1")
    app.include_router(age_policy_router, prefix="/carrier/v1")
    app.include_router(admin_router, prefix="/admin/v1")
    app.include_router(curation_router(), prefix="/admin/v1")
    app.include_router(conversation_lexicon_router(), prefix="/admin/v1")
    app.include_router(app_catalogue_router(), prefix="/admin/v1")
    app.include_router(filter_reports_admin_router, prefix="/admin/v1")
    app.include_router(health_router)
    app.include_router(metrics_router)
    install_console(app)  # the curators' pages under /console (not in the OpenAPI document)
    return app
