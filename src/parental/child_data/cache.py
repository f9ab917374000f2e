"""Forgetting what the shared cache holds about a child, once the child's data is deleted.

The cache holds, by child id: the latest positions (device and carrier, with their ranks on
Redis) and the mark of an open position stream (``telemetry.locations``), both with short
expiries. Screen-time usage is counted in SQL only, so there is no counter to drop. Read
grants are voided by writing a new random *access version* under the child's id
(``children.grants.revoke``): that one key stays, holding no data, until it expires a day
later, because it is how every other process learns that its grants to the child are void.
"""

from __future__ import annotations

import logging
import uuid

from parental.runtime import Runtime
from telemetry.locations import positions, stream

log = logging.getLogger(__name__)


async def forget_child(runtime: Runtime, child_id: uuid.UUID) -> None:
    """Void the read grants to the child and drop the child's cached positions and stream mark
    (call after the deletion has committed). A cache that cannot be reached is logged: what
    it holds expires within minutes."""
    await runtime.revoke_access([child_id])
    try:
        await positions.forget_cached(runtime.cache, child_id)
        await runtime.cache.delete(stream.watched_key(child_id))
    except Exception:
        log.warning("dropping a deleted child's cached positions failed", exc_info=True)
