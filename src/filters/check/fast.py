"""``/filter/check`` without the framework's routing and dependency injection.

A carrier's resolver or a browsing child's device may ask thousands of times a second, and the
framework's per-request work (routing through every route, solving dependencies, a database
session) costs several times the verdict itself. This ASGI middleware answers well-formed,
authenticated requests directly, with the same service functions as the routes in
``router.py``; it hands anything else (no or unknown credentials, bad input, no published
version) to the application untouched, so every error is the one the documented route gives.

Who the caller is and which profile applies comes from a ``Backend`` the composition root
provides; it may remember that answer (``subjects.SubjectCache``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl

from pydantic import TypeAdapter
from starlette.types import ASGIApp, Receive, Scope, Send

from filters.activity.recorder import ActivityRecorder
from filters.check import service
from filters.check.errors import InvalidItem, NoPublishedVersion
from filters.check.router import Subject
from filters.check.schemas import MAX_ITEMS, CheckResponse
from filters.engine.store import SnapshotStore
from parental.kit.asgi import bearer, is_json, read_body, replay, send_json

RESPONSE = TypeAdapter(CheckResponse)
MAX_ITEM_LENGTH = 4096
MAX_PROFILE_LENGTH = 64


class Backend(Protocol):
    store: SnapshotStore
    activity: ActivityRecorder

    def now(self) -> datetime: ...

    async def subject(self, token: str, profile_id: str | None) -> Subject | None:
        """The subject for a caller's token and the profile it asks for; None when the token
        or the profile is not valid for this caller (the route then says why)."""


class FastCheck:
    def __init__(
        self, app: ASGIApp, *, path: str, backend: Callable[[Scope], Backend | None]
    ) -> None:
        self.app = app
        self.path = path
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        body = b""
        if method == "POST":
            body = await read_body(receive)
            receive = replay(body, receive)
        request = _parse(method, scope, body)
        backend = self.backend(scope) if request is not None else None
        token = bearer(scope)
        if request is None or backend is None or token is None:
            await self.app(scope, receive, send)
            return
        items, profile_id = request
        subject = await backend.subject(token, profile_id)
        if subject is None:
            await self.app(scope, receive, send)
            return
        now = backend.now()
        try:
            version, results = service.check(backend.store, items, profile=subject.profile, now=now)
        except (InvalidItem, NoPublishedVersion):
            await self.app(scope, receive, send)
            return
        if subject.child_id is not None:
            await backend.activity.record(subject.child_id, subject.profile.timezone, results, now)
        await send_json(send, RESPONSE.dump_json(CheckResponse(version=version, results=results)))


def _parse(method: str, scope: Scope, body: bytes) -> tuple[list[str], str | None] | None:
    """(items, profile) of a request the route would accept, or None to let the route answer."""
    if method == "GET":
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        values: dict[str, list[str]] = {}
        for name, value in query:
            values.setdefault(name, []).append(value)
        urls = values.get("url", [])
        profiles = values.get("profile", [None])
        if len(urls) != 1 or not 0 < len(urls[0]) <= MAX_ITEM_LENGTH or len(profiles) != 1:
            return None
        profile = profiles[0]
        if profile is not None and len(profile) > MAX_PROFILE_LENGTH:
            return None
        return urls, profile
    if method != "POST" or not is_json(scope):
        return None
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.keys() <= {"items", "profile"}:
        return None
    items, profile = data.get("items"), data.get("profile")
    if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
        return None
    if not all(isinstance(i, str) and 0 < len(i) <= MAX_ITEM_LENGTH for i in items):
        return None
    if profile is not None and not isinstance(profile, str):
        return None
    return items, profile
