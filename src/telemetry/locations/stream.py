"""Live positions as Server-Sent Events, in whichever process the guardian is connected to.

The process that stored fixes publishes them, once committed, as a notice on the child's
channel (``parental.kit.notices``: Redis pub/sub across processes, in-process queues in the
embedded default); every open stream of that child, in any process, forwards them as
``location`` events. A stream is a live view only: fixes sent while it was closed are read
from the history. Comments keep idle connections open through proxies, and a stream ends
after its lifetime so the guardian's right to watch is checked again on reconnecting.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence

from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event
from pydantic import TypeAdapter

from parental.kit.notices import Notices
from telemetry.locations.schemas import LocationRead

log = logging.getLogger(__name__)

EVENT = "location"
RECONNECT_MS = 5000
_FIXES = TypeAdapter(list[LocationRead])


def channel(child_id: uuid.UUID) -> str:
    return f"locations.{child_id}"


async def publish_fixes(
    notices: Notices, child_id: uuid.UUID, fixes: Sequence[LocationRead]
) -> None:
    """Tell the child's open streams, in every process, about fixes just committed."""
    await notices.publish(channel(child_id), _FIXES.dump_json(list(fixes)).decode())


async def location_events(
    notices: Notices, child_id: uuid.UUID, *, heartbeat: float, lifetime: float
) -> AsyncIterator[bytes]:
    """The stream's bytes: an opening comment once subscribed, an event per new fix, a comment
    after ``heartbeat`` seconds without one, until ``lifetime`` seconds have passed."""
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
        while (left := deadline - loop.time()) > 0:
            message = await subscription.next(min(heartbeat, left))
            if message is None:
                yield KEEPALIVE_COMMENT
                continue
            for fix in _FIXES.validate_json(message):
                yield format_sse_event(data_str=fix.model_dump_json(), event=EVENT, id=str(fix.id))
    finally:
        await subscription.close()
