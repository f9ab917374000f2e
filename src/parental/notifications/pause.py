"""Waiting out FCM's quota together: a 429 pauses every dispatcher, not only the row that got it.

FCM's sending quota is the Firebase project's, so when one answer says "429, Retry-After: N"
every further send before then would be refused too (and counts against the project). The
dispatcher that got it records "paused until now + N" (``pause``) in two places:

- in its own process, on the ``PushSender`` (``paused_until``): it holds even when the cache
  cannot be reached;
- in the kit cache (Redis when configured, so every process of the deployment sees it) under
  the project's key, written newer-wins (``Cache.set_newer`` ranked by the instant): a shorter
  pause written later never cuts a longer one short. It expires from the cache once over.

``dispatch_round`` asks ``paused_until`` first and claims nothing before that instant: the
rows stay due and go once the pause is over, in their order. A cache that fails is logged and
ignored (the in-process pause still holds): pausing is a courtesy to FCM, never a reason to
stop sending.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from parental.runtime import Runtime

log = logging.getLogger(__name__)


def _key(runtime: Runtime) -> str:
    return f"push:paused-until:{runtime.settings.fcm_project_id}"


async def paused_until(runtime: Runtime) -> datetime | None:
    """The latest instant a dispatcher of this project was told to wait until, if any."""
    local = runtime.push.paused_until
    try:
        raw = await runtime.cache.get(_key(runtime))
    except Exception as exc:
        log.warning("reading the push pause failed (%s); using this process's", type(exc).__name__)
        raw = None
    shared = datetime.fromtimestamp(float(raw), UTC) if raw else None
    found = [at for at in (local, shared) if at is not None]
    return max(found) if found else None


async def pause(runtime: Runtime, until: datetime, *, now: datetime) -> None:
    """No dispatcher of this project sends before ``until`` (module doc)."""
    sender = runtime.push
    if sender.paused_until is None or sender.paused_until < until:
        sender.paused_until = until
    instant = until.timestamp()
    ttl = max(1, math.ceil((until - now).total_seconds()))
    try:
        await runtime.cache.set_newer(
            _key(runtime), repr(instant).encode(), rank=instant, ttl_seconds=ttl
        )
    except Exception as exc:
        log.warning("sharing the push pause failed (%s)", type(exc).__name__)
    log.warning("FCM quota exceeded: push paused until %s", until.isoformat())


async def clear(runtime: Runtime) -> None:
    """Forget the pause, in this process and the cache (each test starts without one)."""
    runtime.push.paused_until = None
    await runtime.cache.delete(_key(runtime))
