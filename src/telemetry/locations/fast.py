"""``GET /v1/children/{id}/location`` without the framework's routing and dependency injection.

A guardian's app asks where the child is every few seconds while the map is open; the
framework's per-request work (routing, dependencies, a database session for the caller's
account, the child's family and monitoring) costs tens of times the answer itself. This ASGI
middleware answers a read when the composition root's ``Backend`` vouches for the caller (a
grant the full route left, which must still hold by a value read in the same cache round trip
as the positions) and the cache holds the positions; it writes the same audit row as the
route, committed before it answers. Anything else (no or unknown credentials, a malformed id,
a lapsed grant, a cache miss, a failure) goes to the route untouched, so every error is the
one the documented route gives.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from parental.kit.asgi import bearer, send_json
from parental.kit.cache import Cache
from telemetry.locations import positions, service
from telemetry.locations.latest import Latest

log = logging.getLogger(__name__)

_PATH = re.compile(r"/v1/children/([0-9A-Fa-f-]{32,36})/location")


class Backend(Protocol):
    @property
    def cache(self) -> Cache: ...

    @property
    def policy(self) -> service.Policy: ...

    def now(self) -> datetime: ...

    def viewer(self, scope: Scope, token: str, child_id: uuid.UUID, now: datetime) -> Audit | None:
        """The audit of a guardian whose ``token`` may read ``child_id``'s position now, known
        without I/O; None when only the route can tell."""


class Audit(Protocol):
    @property
    def check_key(self) -> str:
        """A cache key read with the positions; its value must satisfy ``holds``."""

    def holds(self, value: bytes | None) -> bool:
        """Whether the caller may still read, given the value under ``check_key`` now."""

    async def viewed(self, action: str, details: dict[str, Any]) -> None:
        """Record the read in the audit log the child sees; returns once it is committed."""


def viewed_details(found: Latest) -> dict[str, Any]:
    """What the audit row of a latest-position read says (the route's and the fast path's)."""
    shown = found.location.fixed_at if found.location is not None else None
    return {"basis": found.basis, "fixed_at": shown.isoformat() if shown is not None else None}


class FastLatest:
    def __init__(self, app: ASGIApp, *, backend: Callable[[Scope], Backend | None]) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _PATH.fullmatch(scope["path"])
            if match is not None and await self._answer(scope, send, match.group(1)):
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Send, raw_id: str) -> bool:
        """Answer the read if it can be answered here; whether it was."""
        token = bearer(scope)
        backend = self.backend(scope)
        if token is None or backend is None:
            return False
        try:
            child_id = uuid.UUID(raw_id)
        except ValueError:
            return False
        now = backend.now()
        audit = backend.viewer(scope, token, child_id, now)
        if audit is None:
            return False
        cached = await positions.cached_latest(
            backend.cache, child_id, now=now, policy=backend.policy, check_key=audit.check_key
        )
        if cached is None or cached.latest is None or not audit.holds(cached.checked):
            return False
        found = cached.latest
        try:
            await audit.viewed("location.viewed", viewed_details(found))
        except Exception:  # the route tries again, and gives its documented error if it fails
            log.warning("writing the audit row of a location read failed", exc_info=True)
            return False
        await send_json(send, found.read().model_dump_json().encode())
        return True
