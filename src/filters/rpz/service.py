"""RPZ zones of published versions (per category) and of a child's own allow/block entries."""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from filters.check.errors import NoPublishedVersion, ProfileNotFound
from filters.curation import repository as curation
from filters.curation.errors import VersionNotFound
from filters.profiles import repository as profiles
from filters.rpz import repository
from filters.rpz.cache import ZoneCache
from filters.rpz.errors import ZoneCategoryNotFound
from filters.rpz.zone import RecordWriter, ZoneFile, ZoneOptions, header, write_records


async def latest_version(session: AsyncSession) -> int:
    """The version in force, or the check API's error when nothing is published yet."""
    latest = await curation.latest_version(session)
    if not latest:
        raise NoPublishedVersion()
    return latest


async def category_zone(
    session: AsyncSession,
    cache: ZoneCache,
    *,
    key: str,
    options: ZoneOptions,
    version: int | None = None,
) -> ZoneFile:
    """The zone of category ``key`` in ``version`` (default: the latest), from the cache or
    written into it. A category with no source in that version gets a zone with no rules."""
    number = version if version is not None else await latest_version(session)
    row = await curation.get_version(session, number)
    if row is None:
        raise VersionNotFound()
    source_ids = [uuid.UUID(sid) for sid, _, category in row.sources if category == key]
    if not source_ids and await curation.category_by_key(session, key) is None:
        raise ZoneCategoryNotFound()
    origin = options.origin(key)

    async def write(path: Path) -> None:
        # The header counts what was left out, known only at the end: records go to a side
        # file first, then follow the header into the zone file.
        body = path.with_name(path.name + ".body")
        try:
            with body.open("w", encoding="ascii") as out:
                writer = RecordWriter(out, origin)
                async for host, scope, action in repository.rules_by_host(
                    session, number, source_ids
                ):
                    writer.add(host, scope, action)
                counts = writer.finish()
            title = f"RPZ zone of category {key}, blocklist version {number}."
            top = header(origin=origin, serial=number, ttl=options.ttl, title=title, counts=counts)
            with path.open("w", encoding="ascii") as out, body.open(encoding="ascii") as records:
                out.write(top)
                shutil.copyfileobj(records, out, 1 << 20)
        finally:
            body.unlink(missing_ok=True)

    path = await cache.get(f"{origin}v{number}.ttl{options.ttl}.zone", write)
    return ZoneFile(origin, number, options.ttl, path)


@dataclass(frozen=True)
class ZoneText:
    """A small zone built on request: its text, serial and a tag of its content."""

    origin: str
    serial: int
    text: str

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:24]


async def profile_zone(
    session: AsyncSession, *, profile_id: uuid.UUID, options: ZoneOptions, now: datetime
) -> ZoneText:
    """The guardian's own allow and block entries of one child's profile, unexpired at ``now``.

    The serial is the time (Unix seconds) the zone last changed: an edit of the profile, or an
    entry's expiry, whichever is later.
    """
    row = await profiles.get(session, profile_id)
    if row is None:
        raise ProfileNotFound()
    entries = await profiles.entries(session, row.id)
    live = sorted(
        (e.host, e.scope, e.action) for e in entries if e.expires_at is None or e.expires_at > now
    )
    changed = max(
        [row.updated_at, *(e.expires_at for e in entries if e.expires_at and e.expires_at <= now)]
    )
    serial = int(changed.timestamp())
    origin = options.origin(str(row.id), "profile")
    body = io.StringIO()
    counts = write_records(body, live, origin)
    title = f"RPZ zone of the guardian's own entries of filter profile {row.id}."
    top = header(origin=origin, serial=serial, ttl=options.ttl, title=title, counts=counts)
    return ZoneText(origin, serial, top + body.getvalue())


class CategoryZones:
    """Category zones by their DNS name, for zone transfers (``transfer.ZoneProvider``)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cache: ZoneCache, options: ZoneOptions
    ) -> None:
        self.sessions = sessions
        self.cache = cache
        self.options = options
        self._suffix = "." + options.origin()

    async def zone(self, name: str, serial: int | None = None) -> ZoneFile | None:
        """Zone ``name`` now, or as version ``serial`` was; None if it is not one of ours."""
        name = name.lower().rstrip(".") + "."
        key = name[: -len(self._suffix)] if name.endswith(self._suffix) else ""
        if not key or "." in key:
            return None
        async with self.sessions() as session:
            try:
                return await category_zone(
                    session, self.cache, key=key, options=self.options, version=serial
                )
            except (ZoneCategoryNotFound, VersionNotFound, NoPublishedVersion):
                return None
