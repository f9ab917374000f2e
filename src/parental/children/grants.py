"""Read grants: what the full check last found about a guardian's token and a child.

A guardian's app asks where the child is every few seconds while the map is open, and checking
the token's account, the child's family and the monitoring rules costs several database round
trips each time. After the full check passes, the reading route puts a grant here; the fast
path of the same read (``telemetry.locations.fast``) answers from it, still writing each
read's audit row. A grant lapses:

- when anything that decides access to the child changes: a guardian leaves or is removed,
  the child is removed or edited, the carrier changes the child's line. The change sets a new
  random *access version* of each child concerned in the shared cache (``revoke``), after its
  transaction commits; a grant holds the version it was given under, and the fast path reads
  the current one in the same round trip as the positions, so every process sees the change
  at its next read. The version is read before the full check, so a change racing with the
  check leaves a grant that is already stale;
- ``ttl`` seconds after the check (for a change whose new version could not be written,
  Redis being down: the bound on how long it may go unseen);
- when the access token expires, and at midnight of the child's 18th birthday in the child's
  zone, when monitoring ends.

Grants are kept per process (``ttl`` in monotonic time, the rest in the runtime's clock); a
change made in this process also clears them at once.

A child's paired device gets the same kind of grant for its uploads (``grant_device``): the
upload route checks the device's token, that it is not revoked and that monitoring applies to
its child; the upload's fast path (``telemetry.locations.fast_upload``) stores from the grant.
Revoking a device sets its child's new access version like the changes above.
"""

from __future__ import annotations

import logging
import secrets
import time as monotonic
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from parental.children.models import Child
from parental.children.monitoring import Monitoring
from parental.kit.cache import Cache

log = logging.getLogger(__name__)

VERSION_TTL_SECONDS = 86_400  # far longer than any grant lives


def access_key(child_id: uuid.UUID) -> str:
    """The cache key of the child's access version."""
    return f"access:child:{child_id}"


@dataclass(frozen=True)
class AccessVersion:
    value: bytes | None  # None: never changed, or forgotten
    known: bool = True  # False: the cache could not be read, so no grant is given


async def read_version(cache: Cache, child_id: uuid.UUID) -> AccessVersion:
    """The child's access version now."""
    try:
        return AccessVersion(await cache.get(access_key(child_id)))
    except Exception:
        log.warning("reading an access version failed; no read grant", exc_info=True)
        return AccessVersion(None, known=False)


async def revoke(cache: Cache, child_ids: Iterable[uuid.UUID]) -> None:
    """Void every grant to read these children, in every process (call after commit)."""
    for child_id in child_ids:
        try:
            await cache.set(
                access_key(child_id),
                secrets.token_hex(8).encode(),
                ttl_seconds=VERSION_TTL_SECONDS,
            )
        except Exception:
            log.warning("revoking read grants failed; they lapse within their ttl", exc_info=True)


async def revoke_reads(local: ReadGrants, cache: Cache, child_ids: Iterable[uuid.UUID]) -> None:
    """``revoke``, and clear this process's grants at once (call after commit)."""
    local.clear()
    await revoke(cache, child_ids)


@dataclass(frozen=True)
class ReadGrant:
    account_id: uuid.UUID  # the guardian's account; for a device's grant, the device
    family_id: uuid.UUID
    child_id: uuid.UUID
    version: bytes | None  # the child's access version the check ran under
    until: datetime  # aware: the token expires or monitoring ends (18th birthday)
    expires: float  # monotonic: ``ttl`` after the check
    timezone: str  # the child's, as checked (a change of zone changes the access version)

    def holds(self, version: bytes | None) -> bool:
        """Whether nothing that decides access has changed since the check."""
        return version == self.version


def monitoring_ends_at(child: Child, status: Monitoring) -> datetime:
    """The instant monitoring stops for age: midnight of the 18th birthday, child's zone."""
    return datetime.combine(status.ends_on, time(0), tzinfo=ZoneInfo(child.timezone))


class ReadGrants:
    def __init__(
        self,
        ttl: float,
        *,
        size: int = 10_000,
        clock: Callable[[], float] = monotonic.monotonic,
    ) -> None:
        self.ttl = ttl
        self._size = size
        self._clock = clock
        # (token, child id) of a guardian's read; (token, None) of a device's uploads
        self._items: OrderedDict[tuple[str, uuid.UUID | None], ReadGrant] = OrderedDict()
        self._epoch = 0

    def grant(
        self,
        token: str,
        *,
        account_id: uuid.UUID,
        child: Child,
        status: Monitoring,
        version: AccessVersion,
        token_expires: datetime,
        now: datetime,
    ) -> None:
        """Note that ``token`` (of ``account_id``) may read ``child``'s data: the full check
        has just passed under access ``version``, with ``status`` the child's monitoring."""
        if self.ttl <= 0 or not status.active or not version.known:
            return
        until = min(token_expires, monitoring_ends_at(child, status))
        if now >= until:
            return
        self._put((token, child.id), account_id, child, version, until)

    def grant_device(
        self,
        token: str,
        *,
        device_id: uuid.UUID,
        child: Child,
        status: Monitoring,
        version: AccessVersion,
        epoch: int,
        now: datetime,
    ) -> None:
        """Note that ``token`` is the live device ``device_id`` of ``child``, which monitoring
        applies to (``status``): the full check, begun in ``epoch``, has just passed under
        access ``version``.

        The device's own check (its token, not revoked) comes before its child, and so before
        the version can be read: the caller checks again that the device is not revoked after
        reading the version (a revocation committed by another process is then seen by one or
        the other), and ``epoch`` covers a revocation in this process whose commit the check's
        snapshot may not show (SQLite reads from the snapshot of its first read)."""
        if self.ttl <= 0 or not status.active or not version.known or epoch != self._epoch:
            return
        until = monitoring_ends_at(child, status)
        if now < until:
            self._put((token, None), device_id, child, version, until)

    def _put(
        self,
        key: tuple[str, uuid.UUID | None],
        holder_id: uuid.UUID,
        child: Child,
        version: AccessVersion,
        until: datetime,
    ) -> None:
        expires = self._clock() + self.ttl
        grant = ReadGrant(
            holder_id, child.family_id, child.id, version.value, until, expires, child.timezone
        )
        self._items[key] = grant
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, token: str, child_id: uuid.UUID, now: datetime) -> ReadGrant | None:
        """The grant, unless it has lapsed by time (its version is the caller's to check)."""
        return self._get((token, child_id), now)

    def get_device(self, token: str, now: datetime) -> ReadGrant | None:
        """The device grant of ``token`` (``account_id`` is the device's id), unless it has
        lapsed by time (its version is the caller's to check)."""
        return self._get((token, None), now)

    def _get(self, key: tuple[str, uuid.UUID | None], now: datetime) -> ReadGrant | None:
        found = self._items.get(key)
        if found is None:
            return None
        if now >= found.until or self._clock() >= found.expires:
            del self._items[key]
            return None
        return found

    @property
    def epoch(self) -> int:
        """How many times ``clear`` has run: a check that began in an earlier epoch may have
        read what a change in this process has since replaced, so its grant is not given."""
        return self._epoch

    def clear(self) -> None:
        self._items.clear()
        self._epoch += 1

    def __len__(self) -> int:
        return len(self._items)
