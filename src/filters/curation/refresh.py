"""Refreshing URL sources: a conditional GET, then an import when the list changed.

The request carries the validators the server gave last time (``If-None-Match`` from its
ETag, ``If-Modified-Since`` from its Last-Modified), so an unchanged list costs a 304 and no
parsing. A failed refresh (no connection, a timeout, an error status, a list too large, or a
body no format can read or that holds not one rule) changes no rule: the source keeps its last
good rules, and records the error and its time, and is tried again sooner than its interval.

A source with ``auto_publish`` publishes its own changes when a refresh brought some (a
malware feed should not wait for a curator), and only its own: other sources' unpublished
work stays in the draft (see ``publishing.publish``).

Fetches go only where ``egress`` allows (public addresses, checked at every redirect, at most
``MAX_REDIRECTS``), directly: a proxy from the environment would resolve and connect by
itself, past those checks, and a ``.netrc`` would hand our credentials to any list server.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import publishing, repository, service, sources
from filters.curation.egress import (
    PUBLIC_ONLY,
    Egress,
    EgressTransport,
    Refused,
    Resolve,
    system_resolve,
)
from filters.curation.errors import InvalidList, NotRefreshable, SourceNotFound
from filters.curation.models import Source, Version
from filters.curation.progress import ImportProgress, Phase, enter, written
from filters.engine.rules import ParseReport, Rule

TIMEOUT_SECONDS = 60.0  # for the whole download: a server that trickles bytes is cut off too
RETRY_AFTER_FAILURE = timedelta(minutes=15)
# A claimed refresh is taken again after this if its worker died before finishing it.
CLAIM_LEASE = timedelta(minutes=30)
USER_AGENT = "child-safe-sim list refresh"
MAX_REDIRECTS = 5


class Outcome(StrEnum):
    UPDATED = "updated"  # fetched, and the draft changed
    UNCHANGED = "unchanged"  # fetched, and it held the same rules
    NOT_MODIFIED = "not_modified"  # 304: the server says nothing changed
    FAILED = "failed"


@dataclass(frozen=True)
class RefreshResult:
    outcome: Outcome
    imported: service.ImportResult | None = None
    error: str | None = None
    version: Version | None = None  # published by the source itself; activate after commit


def new_client(
    egress: Egress = PUBLIC_ONLY,
    *,
    resolve: Resolve = system_resolve,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """A client for fetching lists: only to addresses ``egress`` permits, redirects followed
    (each hop checked, at most ``MAX_REDIRECTS``), nothing taken from the environment."""
    return httpx.AsyncClient(
        transport=EgressTransport(egress, resolve=resolve, verify=verify),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


def details(result: RefreshResult) -> dict[str, object]:
    """What a refresh did, for the audit log."""
    out: dict[str, object] = {"outcome": result.outcome.value}
    if result.error is not None:
        out["error"] = result.error
    if result.imported is not None:
        imported = result.imported
        out.update(added=imported.added, removed=imported.removed, unchanged=imported.unchanged)
    if result.version is not None:
        out["published_version"] = result.version.number
    return out


class FetchFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Fetched:
    data: bytes | None  # None: not modified
    etag: str | None
    last_modified: str | None


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    time_limit: float = TIMEOUT_SECONDS,
    max_bytes: int = sources.MAX_LIST_BYTES,
) -> Fetched:
    """GET ``url`` with the validators given; ``FetchFailed`` says why it did not work."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(time_limit):
            return await _get(client, url, headers, time_limit, max_bytes)
    except TimeoutError as exc:
        raise FetchFailed(f"timed out after {time_limit:g} s") from exc
    except Refused as exc:
        raise FetchFailed(exc.reason) from exc
    except httpx.TimeoutException as exc:
        raise FetchFailed(f"timed out after {time_limit:g} s ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc


async def _get(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], time_limit: float, max_bytes: int
) -> Fetched:
    async with client.stream("GET", url, headers=headers, timeout=time_limit) as response:
        if response.status_code == httpx.codes.NOT_MODIFIED:
            return Fetched(None, None, None)
        if not response.is_success:
            raise FetchFailed(f"HTTP {response.status_code} {response.reason_phrase}".strip())
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise FetchFailed(f"the list is larger than {max_bytes} bytes ({length} announced)")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchFailed(f"the list is larger than {max_bytes} bytes")
            chunks.append(chunk)
        etag = response.headers.get("etag")
        modified = response.headers.get("last-modified")
        return Fetched(
            b"".join(chunks),
            etag if etag and len(etag) <= 200 else None,
            modified if modified and len(modified) <= 64 else None,
        )


async def refresh_source(
    session: AsyncSession,
    source: Source,
    *,
    client: httpx.AsyncClient,
    actor: str,
    now: datetime,
    snapshot_path: Callable[[int], Path],
    time_limit: float = TIMEOUT_SECONDS,
    progress: ImportProgress | None = None,
) -> RefreshResult:
    """Fetch the list of ``source`` and import it if it changed (``progress`` follows it).

    A failure is recorded on the source and returned, not raised. The caller commits, then
    activates ``result.version`` when the source published itself.
    """
    if source.kind != "url" or source.url is None:
        raise NotRefreshable()
    parsed: tuple[list[Rule], ParseReport] | None = None
    await enter(progress, Phase.FETCHING)
    try:
        fetched = await fetch(
            client,
            source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            time_limit=time_limit,
        )
        if fetched.data is not None:
            parsed = await sources.parse_for(session, source, fetched.data, None, progress)
    except FetchFailed as exc:
        return await _failed(session, source, exc.reason, now)
    except InvalidList as exc:
        return await _failed(session, source, exc.detail, now)
    await enter(progress, Phase.WRITING)
    locked = await repository.lock_source(session, source.id)
    if locked is None:
        raise SourceNotFound()
    locked.last_checked_at = now
    locked.next_refresh_at = _after(locked, now, None)
    locked.last_error = locked.last_error_at = None
    if parsed is None:
        locked.refresh_status = Outcome.NOT_MODIFIED.value
        await session.flush()
        return RefreshResult(Outcome.NOT_MODIFIED)
    rules, report = parsed
    result = await service.replace_rules(
        session,
        locked,
        rules,
        report=report,
        actor=actor,
        now=now,
        origin="refresh",
        progress=progress.stored if progress is not None else None,
    )
    written(progress, added=result.added, removed=result.removed)
    locked.etag, locked.last_modified = fetched.etag, fetched.last_modified
    changed = bool(result.added or result.removed)
    locked.refresh_status = (Outcome.UPDATED if changed else Outcome.UNCHANGED).value
    if not changed and result.record is not None:
        # A list polled every hour would leave thousands of imports that brought nothing; the
        # source keeps the report of the last one.
        await session.delete(result.record)
        result = service.ImportResult(result.added, result.removed, result.unchanged)
    await session.flush()
    version = None
    if changed and locked.auto_publish and locked.enabled:
        version = await publishing.publish(
            session,
            snapshot_path=snapshot_path,
            actor=actor,
            now=now,
            note=f"{locked.name} refreshed",
            only=locked,
        )
    return RefreshResult(
        Outcome.UPDATED if changed else Outcome.UNCHANGED, imported=result, version=version
    )


async def _failed(
    session: AsyncSession, source: Source, error: str, now: datetime
) -> RefreshResult:
    source.last_checked_at = source.last_error_at = now
    source.last_error = error
    source.refresh_status = Outcome.FAILED.value
    source.next_refresh_at = _after(source, now, RETRY_AFTER_FAILURE)
    await session.flush()
    return RefreshResult(Outcome.FAILED, error=error)


def _after(source: Source, now: datetime, at_most: timedelta | None) -> datetime | None:
    """When ``source`` is next due: an interval from now, or never without an interval."""
    if source.refresh_interval_seconds is None:
        return None
    interval = timedelta(seconds=source.refresh_interval_seconds)
    return now + (min(interval, at_most) if at_most is not None else interval)


async def due(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Ids of the enabled URL sources whose refresh is due."""
    return await repository.due_sources(session, now)


async def claim(session: AsyncSession, source_id: uuid.UUID, now: datetime) -> bool:
    """Take the due refresh of ``source_id``; false if another worker took it first.

    Commit right after, so the other workers see it taken.
    """
    return await repository.claim_refresh(session, source_id, now=now, until=now + CLAIM_LEASE)
