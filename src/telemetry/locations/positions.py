"""Where the child is now: the latest positions in the cache, SQL for what it lacks.

The cache holds the device's latest fix and the carrier's latest position of each child (or
that SQL holds none), each for ``Policy.cache_seconds``. Ingestion moves them forward after
commit (``move_latest``); a read that finds one missing reads SQL and caches what it found.
Both write through ``Cache.set_newer``, so the newer fix always stays: of two processes storing
fixes at once, or a fill from SQL racing a new fix. What the cache loses (Redis down) costs
only SQL reads.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.cache import Cache
from telemetry.locations import repository
from telemetry.locations.latest import Latest, choose, device_is_current
from telemetry.locations.policy import Policy
from telemetry.locations.schemas import LocationRead

log = logging.getLogger(__name__)

_NONE = b"none"  # cached: SQL holds no such fix within the retention period


def _cache_key(child_id: uuid.UUID, *, carrier: bool) -> str:
    return f"location:latest:{child_id}:{'carrier' if carrier else 'device'}"


@dataclass(frozen=True)
class _Hit:
    fix: LocationRead | None  # None: SQL held no such fix when it was cached


async def _unpacked(cache: Cache, key: str, raw: bytes | None) -> _Hit | None:
    """What ``raw`` under ``key`` says; None for nothing, or for a value that does not decode
    (an older release's, a corrupted one), which is dropped so SQL's answer can replace it."""
    if raw is None:
        return None
    try:
        return _Hit(None if raw == _NONE else LocationRead.model_validate_json(raw))
    except ValueError:
        log.warning("a cached latest position did not decode; dropping it")
        try:
            await cache.delete(key)
        except Exception:
            log.warning("dropping it failed", exc_info=True)
        return None


async def cache_fix(cache: Cache, key: str, fix: LocationRead | None, ttl: int) -> None:
    """Cache ``fix`` (None: SQL holds none) unless a newer one is cached: a read that found
    nothing in SQL just before a fix was stored must not hide that fix."""
    value = fix.model_dump_json().encode() if fix is not None else _NONE
    rank = fix.fixed_at.timestamp() if fix is not None else -1.0  # before any fix
    try:
        await cache.set_newer(key, value, rank=rank, ttl_seconds=ttl)
    except Exception:
        log.warning("writing the latest position to the cache failed", exc_info=True)


async def move_latest(
    cache: Cache, child_id: uuid.UUID, fixes: Sequence[LocationRead], ttl: int
) -> None:
    """Put the newest of ``fixes`` of each kind in the cache, unless it holds a newer one (the
    cache decides atomically, so of two processes storing fixes at once the newer stays)."""
    for carrier in (False, True):
        mine = [f for f in fixes if (f.device_id is None) is carrier]
        if mine:
            newest = max(mine, key=lambda f: f.fixed_at)
            await cache_fix(cache, _cache_key(child_id, carrier=carrier), newest, ttl)


async def forget_cached(cache: Cache, child_id: uuid.UUID) -> None:
    """Drop the child's cached positions (the child is removed)."""
    for carrier in (False, True):
        await cache.delete(_cache_key(child_id, carrier=carrier))


@dataclass(frozen=True)
class _Held:
    """What the cache held of a child's positions, read in one round trip."""

    device: _Hit | None
    carrier: _Hit | None
    checked: bytes | None = None  # the value under the caller's ``check_key``


async def _held(cache: Cache, child_id: uuid.UUID, check_key: str | None = None) -> _Held | None:
    """None when the cache is down."""
    keys = [_cache_key(child_id, carrier=False), _cache_key(child_id, carrier=True)]
    try:
        values = await cache.get_many(keys if check_key is None else [*keys, check_key])
    except Exception:
        log.warning("reading the latest position from the cache failed", exc_info=True)
        return None
    device = await _unpacked(cache, keys[0], values[0])
    carrier = await _unpacked(cache, keys[1], values[1])
    return _Held(device, carrier, *values[2:])


def _shown(found: LocationRead | None, now: datetime, policy: Policy) -> LocationRead | None:
    if found is not None and found.fixed_at < now - policy.retention:
        return None  # kept in the cache past its retention: never shown
    return found


async def _from_sql(
    session: AsyncSession,
    cache: Cache,
    child_id: uuid.UUID,
    *,
    carrier: bool,
    now: datetime,
    policy: Policy,
) -> LocationRead | None:
    row = await repository.newest(session, child_id, carrier=carrier, since=now - policy.retention)
    found = LocationRead.model_validate(row) if row is not None else None
    await cache_fix(cache, _cache_key(child_id, carrier=carrier), found, policy.cache_seconds)
    return found


@dataclass(frozen=True)
class CachedLatest:
    """``cached_latest``'s answer: the position (None when the cache lacks what it needs) and
    the value under the caller's ``check_key``, read in the same round trip."""

    latest: Latest | None
    checked: bytes | None


async def cached_latest(
    cache: Cache,
    child_id: uuid.UUID,
    *,
    now: datetime,
    policy: Policy,
    check_key: str | None = None,
) -> CachedLatest | None:
    """``latest`` from the cache alone, in one round trip with ``check_key``'s value; None
    when the cache is down."""
    held = await _held(cache, child_id, check_key)
    if held is None:
        return None
    if held.device is None:
        return CachedLatest(None, held.checked)
    device = _shown(held.device.fix, now, policy)
    if device_is_current(device, now=now, fallback=policy.carrier_fallback):
        found = choose(device, None, now=now, fallback=policy.carrier_fallback)
        return CachedLatest(found, held.checked)
    if held.carrier is None:
        return CachedLatest(None, held.checked)
    carrier = _shown(held.carrier.fix, now, policy)
    found = choose(device, carrier, now=now, fallback=policy.carrier_fallback)
    return CachedLatest(found, held.checked)


async def latest(
    session: AsyncSession, cache: Cache, child_id: uuid.UUID, *, now: datetime, policy: Policy
) -> Latest:
    """Where the child is now: the device's latest fix, or the carrier's when the device has
    been silent longer than the fallback period. The cache first, SQL for what it lacks."""
    held = await _held(cache, child_id) or _Held(None, None)
    if held.device is not None:
        device = held.device.fix
    else:
        device = await _from_sql(session, cache, child_id, carrier=False, now=now, policy=policy)
    device = _shown(device, now, policy)
    if device_is_current(device, now=now, fallback=policy.carrier_fallback):
        return choose(device, None, now=now, fallback=policy.carrier_fallback)
    if held.carrier is not None:
        carrier = held.carrier.fix
    else:
        carrier = await _from_sql(session, cache, child_id, carrier=True, now=now, policy=policy)
    return choose(device, _shown(carrier, now, policy), now=now, fallback=policy.carrier_fallback)
