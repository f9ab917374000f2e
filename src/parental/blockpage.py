"""The block page server (``parental blockpage``): what a child sees instead of a blocked site.

The DNS front end answers a blocked name with this server's address, so the browser's request
for ``http://blocked.example/...`` arrives here with ``Host: blocked.example``. The page finds
the line from the source address (as the DNS front end does), decides the name again with that
line's profile to learn the category, and says so in the child's language, with a button to
ask a parent and a link to report a mistake; a self-harm block shows a crisis help line first.

Only plain HTTP can show it. For ``https://blocked.example/`` the browser connects to port 443
here and expects a certificate for that name, which nobody can issue without a certificate
authority the phone trusts; it shows its own connection error instead. This is inherent to
DNS filtering (the Extended DNS Error in the answer is what newer clients can show), and why
this server listens for HTTP only. Its own name (``blockpage_hostname``) shows a short page
about the filter.

Forms post back to the blocked name, carrying a token bound to that name and the line
(``filters.blockpage.token``); the page has no cookies and loads nothing from elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from filters.blockpage import service as pages
from filters.blockpage import token as tokens
from filters.blockpage.page import (
    ASK_PATH,
    REPORT_PATH,
    BlockedView,
    Helpline,
    render_blocked,
    render_message,
)
from filters.blockpage.texts import LOCALES, Locale, choose_locale
from filters.check.router import Subject
from filters.check.service import default_profile
from filters.reports import service as reports
from filters.reports.errors import InvalidReportTarget
from parental import migrate
from parental.children import repository as children
from parental.kit.db import transaction
from parental.kit.errors import TooManyRequests
from parental.kit.headers import SecurityHeaders
from parental.kit.ratelimit import Rule
from parental.kit.security import keyed_hash
from parental.lines.identity import LineIdentity
from parental.runtime import Runtime, build_runtime
from parental.settings import UnknownSources
from parental.unblock_requests import ask

MAX_FORM_BYTES = 4096
# The page is one document with an inline style sheet and forms posting back to the same
# (blocked) name; it loads nothing else.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _html(body: str, status: int) -> HTMLResponse:
    return HTMLResponse(body, status_code=status)  # headers: _BlockPageApp


class BlockPage:
    """The handlers, with the process's runtime and line identity."""

    def __init__(self, runtime: Runtime, identity: LineIdentity) -> None:
        self.runtime = runtime
        self.identity = identity

    def _locale(self, request: Request, chosen: str | None = None) -> Locale:
        for locale in LOCALES:
            if chosen == locale:
                return locale
        return choose_locale(
            request.headers.get("accept-language"),
            self.runtime.settings.blockpage_default_locale,
        )

    @staticmethod
    def _source(request: Request) -> str:
        return request.client.host if request.client else ""

    async def _who(self, source: str) -> tuple[Subject | None, uuid.UUID | None]:
        """The subject for ``source`` and the line bound to it (None, None: refused)."""
        try:
            subject = await self.identity.subject(source)
            now = self.runtime.clock.now().timestamp()
            bound = self.identity.index.current.lookup(source, now=now)
        except ValueError:  # not an address (a misconfigured proxy): nobody's line
            return self._unknown(), None
        return subject, bound.line_id if bound else None

    def _unknown(self) -> Subject | None:
        s = self.runtime.settings
        if s.line_unknown_sources is UnknownSources.REFUSE:
            return None
        return Subject(default_profile(s.default_child_timezone))

    def _helpline(self, locale: Locale) -> Helpline | None:
        s = self.runtime.settings
        found = s.blockpage_helplines.get(s.blockpage_country)
        if found is None:
            return None
        return Helpline(found.number, found.label.get(locale) or found.label.get("en", ""))

    async def show(self, request: Request) -> Response:
        """The page for a blocked name, or the page about the filter on its own name."""
        locale = self._locale(request)
        host = pages.host_of(request.headers.get("host", ""))
        if host is None or host == self.runtime.settings.blockpage_hostname:
            return _html(render_message(locale, "about"), 200)
        subject, line = await self._who(self._source(request))
        if subject is None:
            return _html(render_message(locale, "no_child"), 403)
        now = self.runtime.clock.now()
        verdict = pages.decide(self.runtime.snapshots, host, profile=subject.profile, now=now)
        if not verdict.blocked:  # allowed since (a parent said yes); the phone's DNS cache lags
            return _html(render_message(locale, "now_open"), 200)
        category = None
        if verdict.category is not None:
            async with transaction(self.runtime.sessions) as session:
                category = await pages.describe(session, verdict.category, locale)
        view = BlockedView(
            host=host,
            locale=locale,
            category=category,
            helpline=self._helpline(locale) if verdict.category == "self_harm" else None,
            token=tokens.issue(
                self.runtime.secret,
                host=host,
                line=str(line) if line else tokens.NO_LINE,
                now=now,
                ttl=self.runtime.settings.blockpage_token_ttl_seconds,
            ),
            can_ask=line is not None and subject.child_id is not None,
        )
        return _html(render_blocked(view), 403)

    async def _posted(
        self, request: Request
    ) -> tuple[Locale, str, Subject | None, uuid.UUID | None] | Response:
        """The form's name, subject and line once its token verifies; else the refusal page."""
        body = await request.body()
        form = {
            k: v[0] for k, v in parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace")).items()
        }
        locale = self._locale(request, form.get("lang"))
        host = pages.host_of(form.get("host", ""))
        subject, line = await self._who(self._source(request))
        valid = host is not None and tokens.verify(
            self.runtime.secret,
            form.get("token", ""),
            host=host,
            line=str(line) if line else tokens.NO_LINE,
            now=self.runtime.clock.now(),
        )
        if not valid or host is None:
            return _html(render_message(locale, "expired"), 403)
        return locale, host, subject, line

    async def ask_parent(self, request: Request) -> Response:
        """File an unblock request for this line's child (refused for a line without one)."""
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        locale, host, subject, line = posted
        if subject is None or subject.child_id is None or line is None:
            return _html(render_message(locale, "no_child"), 403)
        now = self.runtime.clock.now()
        verdict = pages.decide(self.runtime.snapshots, host, profile=subject.profile, now=now)
        try:
            async with transaction(self.runtime.sessions) as session:
                child = await children.get(session, subject.child_id)
                if child is None:
                    return _html(render_message(locale, "no_child"), 403)
                await ask(
                    session, self.runtime, child, line_id=line, host=host, category=verdict.category
                )
        except TooManyRequests:
            return _html(render_message(locale, "too_many"), 429)
        return _html(render_message(locale, "asked"), 200)

    async def report_mistake(self, request: Request) -> Response:
        """A ``wrongly_blocked`` report for the curators; nothing about the person is kept."""
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        locale, host, subject, _ = posted
        rt = self.runtime
        profile = (
            subject.profile if subject else default_profile(rt.settings.default_child_timezone)
        )
        try:
            # The same budget as the API's block-page route: one limit per address, hashed.
            await rt.limiter.hit(
                Rule("filter-report:ip", rt.settings.limit_filter_reports_per_ip),
                keyed_hash(rt.secret, f"filter-report:{self._source(request)}"),
            )
            async with transaction(rt.sessions) as session:
                await reports.submit(
                    session,
                    kind="wrongly_blocked",
                    target=host,
                    comment=None,
                    reporter=reports.Reporter("block_page"),
                    profile=profile,
                    store=rt.snapshots,
                    now=rt.clock.now(),
                )
        except TooManyRequests:
            return _html(render_message(locale, "too_many"), 429)
        except InvalidReportTarget:
            return _html(render_message(locale, "expired"), 400)
        return _html(render_message(locale, "reported"), 202)


def _page(request: Request) -> BlockPage:
    page: BlockPage = request.app.state.page
    return page


async def show(request: Request) -> Response:
    return await _page(request).show(request)


async def ask_parent(request: Request) -> Response:
    return await _page(request).ask_parent(request)


async def report_mistake(request: Request) -> Response:
    return await _page(request).report_mistake(request)


class _BlockPageApp(Starlette):
    """Starlette with the security headers around everything, its error pages included.

    Never Strict-Transport-Security: the page answers plain HTTP for any blocked name, and
    the header would only ever promise what this server cannot keep.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), csp=CSP, private_prefixes=("/",))


def create_blockpage_app(runtime: Runtime | None = None) -> Starlette:
    """The block page server. Without ``runtime`` it builds one from the environment."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or build_runtime()
        if owned and rt.is_embedded_sqlite:
            await migrate.upgrade(rt.engine)
        rt.snapshots.refresh()
        subscription = await rt.snapshots.open_notices(rt.notices)
        watcher = asyncio.create_task(rt.snapshots.watch(subscription))
        identity = LineIdentity(rt)
        await identity.start()
        app.state.page = BlockPage(rt, identity)
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await identity.stop()
            if subscription is not None:
                await subscription.close()
            if owned:
                await rt.close()

    return _BlockPageApp(
        routes=[
            Route(ASK_PATH, ask_parent, methods=["POST"]),
            Route(REPORT_PATH, report_mistake, methods=["POST"]),
            Route("/{path:path}", show, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )
