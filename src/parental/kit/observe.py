"""Every HTTP request counted, timed and given an id, as one pure ASGI middleware.

It sits outermost (inside the security headers), so the fast paths that answer without the
framework (a location read or upload, a filter check) are counted like every route. Per
request it reads one header, sets one context variable, adds one response header and, with
metrics on, bumps a cached counter and histogram child: a few microseconds (figures in
docs/operations.md).

Labels are the route's template, never the raw path: ``/v1/children/{child_id}/location``,
not a child's id. The framework leaves the route it matched in the scope (``_template``);
a fast path that answered has none, so ``fast_paths`` names their templates (an exact path,
or a pattern for a path with an id in it). A path no route knows is ``unmatched``, and an
unusual method ``OTHER``, so a client cannot make new label values up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from time import perf_counter

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parental.kit import request_id
from parental.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS = tuple(f"{n}xx" for n in range(10))


class ObservedRequests:
    """Request ids on every HTTP request; with ``metrics``, the request counter and latency
    histogram by route template (``fast_paths``: the templates of paths the framework never
    routes, exact or as a pattern)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: bool = True,
        fast_paths: Mapping[str, str] | None = None,
        fast_patterns: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self._exact = dict(fast_paths or {})
        self._patterns = [(re.compile(p), template) for p, template in fast_patterns]
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming(scope) or request_id.new()
        header = (request_id.HEADER, rid.encode("ascii"))
        status = 500  # unless an answer starts: the server's own error page
        token = request_id.bind(rid)
        started = perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            request_id.unbind(token)
            if self.metrics:
                self._observe(scope, status, perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"]
        key = (
            self._template(scope),
            method if method in METHODS else "OTHER",
            _STATUS[status // 100 % 10],
        )
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                HTTP_REQUESTS.labels(*key),
                HTTP_LATENCY.labels(key[0], key[1]),
            )
        children[0].inc()
        children[1].observe(seconds)

    def _template(self, scope: Scope) -> str:
        # FastAPI 0.16x routes into included routers lazily: ``scope["route"]`` is the route
        # as its router declared it (``/children/{child_id}``, no ``/v1``), and the full
        # template is in the route context it keeps under ``scope["fastapi"]``. Earlier
        # versions copied routes with their prefix, and ``scope["route"]`` had it all.
        context = scope.get("fastapi", {}).get("effective_route_context")
        template: str | None = getattr(context, "path_format", None) or getattr(
            scope.get("route"), "path_format", None
        )
        if template is not None:
            return template
        path = scope["path"]
        found = self._exact.get(path)
        if found is not None:
            return found
        for pattern, template in self._patterns:
            if pattern.fullmatch(path):
                return template
        return UNMATCHED


def _incoming(scope: Scope) -> str | None:
    """The caller's ``X-Request-ID`` when it is well formed."""
    for name, value in scope["headers"]:
        if name == request_id.HEADER:
            return value.decode("ascii") if request_id.well_formed(value) else None
    return None
