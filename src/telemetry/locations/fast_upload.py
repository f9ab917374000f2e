"""``POST /v1/device/locations`` without the framework's routing and dependency injection.

A child's device uploads its fixes in batches all day, and the framework's per-request work
(routing, the dependencies that find the device by its token, the child, the line and its
guardians, body validation through the route's signature, the answer's serialisation) costs
more than storing the batch. This ASGI middleware stores an upload when the composition root's
``Backend`` vouches for the device (a grant the full route left, which must still hold by a
value read from the cache) and the body is a valid batch; it runs the same ``service.ingest``
in the transaction of a group of uploads (``groups``), answers what the route answers, and
announces the new fixes after answering, as the route's background task does. A device over
its upload rate gets the route's 429. Anything else (no or unknown credentials, a lapsed grant,
a body the batch schema refuses, the cache down) goes to the route with the body as it came,
so every error is the one the documented route gives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from parental.kit.asgi import bearer, is_json, read_body, replay, send_json
from parental.kit.cache import Cache
from parental.kit.errors import AppError
from parental.kit.http import app_error_response
from telemetry.locations import service
from telemetry.locations.schemas import FixBatch, FixCreate
from telemetry.locations.stream import is_watched

log = logging.getLogger(__name__)

PATH = "/v1/device/locations"


class Backend(Protocol):
    @property
    def cache(self) -> Cache: ...

    def now(self) -> datetime: ...

    def device(self, token: str, now: datetime) -> Device | None:
        """The device whose ``token`` may upload now, known without I/O; None when only the
        route can tell."""


class Device(Protocol):
    @property
    def check_key(self) -> str:
        """A cache key read before storing; its value must satisfy ``holds``."""

    def holds(self, value: bytes | None) -> bool:
        """Whether the device may still upload, given the value under ``check_key`` now."""

    @property
    def watched_key(self) -> str:
        """The cache key that says whether a live stream of the device's child is open."""

    @property
    def outlets(self) -> service.Outlets:
        """Where the stored fixes are announced."""

    @property
    def cache_seconds(self) -> int:
        """How long the latest position stays in the cache."""

    async def admit(self) -> None:
        """Count the upload against the device's rate; an ``AppError`` (429) when over it."""

    async def store(self, fixes: Sequence[FixCreate]) -> service.Stored:
        """Store the device's upload as ``router.store`` does (``service.ingest``, the
        listeners' events kept), committed when this returns."""


class FastUpload:
    def __init__(self, app: ASGIApp, *, backend: Callable[[Scope], Backend | None]) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == PATH
            and is_json(scope)
        ):
            token = bearer(scope)
            backend = self.backend(scope)
            if token is not None and backend is not None:
                device = backend.device(token, backend.now())
                if device is not None:
                    body = await read_body(receive)
                    if await self._answer(scope, receive, send, backend, device, body):
                        return
                    receive = replay(body, receive)
        await self.app(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        backend: Backend,
        device: Device,
        body: bytes,
    ) -> bool:
        """Store the upload if it can be stored here; whether it was answered."""
        try:
            batch = FixBatch.model_validate_json(body)
        except ValidationError:
            return False  # the route gives its 422
        try:
            # The device's access version, and whether a stream of its child is open, in one
            # round trip.
            check, mark = await backend.cache.get_many([device.check_key, device.watched_key])
        except Exception:
            log.warning("reading a device's access version failed", exc_info=True)
            return False
        if not device.holds(check):
            return False
        try:
            await device.admit()
        except AppError as error:
            await app_error_response(error)(scope, receive, send)
            return True
        stored = await device.store(batch.fixes)
        await send_json(send, stored.result.model_dump_json().encode())
        await service.announce(
            device.outlets,
            stored,
            cache_seconds=device.cache_seconds,
            watched=is_watched(mark, known=True),
        )
        return True
