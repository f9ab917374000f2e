"""Live positions as Server-Sent Events, in whichever process the guardian is connected to.

The process that stored fixes publishes them, once committed, as a notice on the child's
channel (``parental.kit.notices``: Redis pub/sub across processes, in-process queues in the
embedded default); every open stream of that child, in any process, forwards them as
``location`` events. A stream is a live view only: fixes sent while it was closed are read
from the history. Comments keep idle connections open through proxies, and a stream ends
after its lifetime so the guardian's right to watch is checked again on reconnecting.

Most of the time nobody watches a child live, and serialising a hundred fixes for nobody costs
an upload more than storing them in the cache. So an open stream keeps a mark in the cache
(``watched_key``, renewed every heartbeat, expiring three heartbeats after the last stream
closed), and ingestion publishes only while the mark is there, or when it cannot tell. A fix
committed in the moment a stream opens may not be told; it is in the history.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import AsyncIterator, Sequence

from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event
from pydantic import TypeAdapter

from parental.kit.cache import Cache
from parental.kit.notices import Notices
from telemetry.locations.schemas import LocationRead

log = logging.getLogger(__name__)

EVENT = "location"
RECONNECT_MS = 5000
FIXES = TypeAdapter(list[LocationRead])  # a notice's body


def channel(child_id: uuid.UUID) -> str:
    return f"locations.{child_id}"


def watched_key(child_id: uuid.UUID) -> str:
    """Present in the cache while a stream of the child is open in some process."""
    return f"locations.watched:{child_id}"


def is_watched(mark: bytes | None, *, known: bool) -> bool:
    """Whether to publish, given the value read under ``watched_key`` (``known`` False: the
    cache could not be read, so publish)."""
    return mark is not None or not known


async def _mark_watched(cache: Cache, child_id: uuid.UUID, heartbeat: float) -> None:
    try:
        await cache.set(watched_key(child_id), b"1", ttl_seconds=math.ceil(3 * heartbeat))
    except Exception:
        # Uploads that cannot read the mark publish anyway; those that can may skip this
        # stream until the next renewal.
        log.warning("marking a child as watched failed", exc_info=True)


async def publish_fixes(
    notices: Notices, child_id: uuid.UUID, fixes: Sequence[LocationRead]
) -> None:
    """Tell the child's open streams, in every process, about fixes just committed."""
    await notices.publish(channel(child_id), FIXES.dump_json(list(fixes)).decode())


async def location_events(
    notices: Notices, cache: Cache, child_id: uuid.UUID, *, heartbeat: float, lifetime: float
) -> AsyncIterator[bytes]:
    """The stream's bytes: an opening comment once subscribed, an event per new fix, a comment
    after ``heartbeat`` seconds without one, until ``lifetime`` seconds have passed."""
    await _mark_watched(cache, child_id, heartbeat)  # before subscribing: nothing falls between
    try:
        subscription = await notices.open(channel(child_id))
    except Exception:
        # Nothing was sent yet: the client sees the stream end and reconnects after a while.
        log.warning("opening a location stream failed", exc_info=True)
        return
    try:
        yield format_sse_event(comment="open", retry=RECONNECT_MS)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lifetime
        marked = loop.time()
        while (left := deadline - loop.time()) > 0:
            if loop.time() - marked >= heartbeat:
                await _mark_watched(cache, child_id, heartbeat)
                marked = loop.time()
            message = await subscription.next(min(heartbeat, left))
            if message is None:
                yield KEEPALIVE_COMMENT
                continue
            for fix in FIXES.validate_json(message):
                yield format_sse_event(data_str=fix.model_dump_json(), event=EVENT, id=str(fix.id))
    finally:
        await subscription.close()
