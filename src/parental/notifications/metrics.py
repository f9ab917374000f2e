"""Push metrics: what FCM answered each send, and the outbox's backlog.

The backlog gauges are computed when they are scraped, from one aggregate query, at most
every ``BACKLOG_SECONDS`` per process (Prometheus may scrape every few seconds, from several
servers). They come from the API's ``/metrics``, not only from the dispatcher's rounds, so
a backlog still shows when the worker that should drain it is down.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import Counter, Gauge

from parental.kit.metrics import Children
from parental.notifications import outbox
from parental.runtime import Runtime

BACKLOG_SECONDS = 5.0

PUSH_SENDS = Counter(
    "parental_push_sends",
    "Messages sent to one phone through FCM, by outcome and the SDK's error class "
    "(none when delivered).",
    ["result", "error"],
)
# livemax: with several API processes each reads the same table; the highest of the live
# ones is the answer (not their sum).
OUTBOX_PENDING = Gauge(
    "parental_push_outbox_pending",
    "Outbox rows not sent yet, due or held for later.",
    multiprocess_mode="livemax",
)
OUTBOX_DUE = Gauge(
    "parental_push_outbox_due",
    "Outbox rows due to be sent now.",
    multiprocess_mode="livemax",
)
OUTBOX_OLDEST_DUE_AGE = Gauge(
    "parental_push_outbox_oldest_due_age_seconds",
    "How long the longest-waiting due outbox row has been due (0 when none is).",
    multiprocess_mode="livemax",
)

sends = Children(PUSH_SENDS)


def error_name(exc: BaseException | None) -> str:
    """The label of a send's failure: the SDK's exception class (UnregisteredError,
    QuotaExceededError, UnavailableError...), a bounded set."""
    return "none" if exc is None else type(exc).__name__


class BacklogGauges:
    """Refreshes the outbox gauges, at most every ``BACKLOG_SECONDS``."""

    def __init__(self, every: float = BACKLOG_SECONDS) -> None:
        self.every = every
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self, runtime: Runtime) -> None:
        if time.monotonic() - self._at < self.every:
            return
        async with self._lock:
            if time.monotonic() - self._at < self.every:
                return  # another scrape refreshed them while this one waited
            now = runtime.clock.now()
            async with runtime.sessions() as session:
                found = await outbox.backlog(session, now=now)
            OUTBOX_PENDING.set(found.pending)
            OUTBOX_DUE.set(found.due)
            age = (
                0.0 if found.oldest_due_at is None else (now - found.oldest_due_at).total_seconds()
            )
            OUTBOX_OLDEST_DUE_AGE.set(max(0.0, age))
            self._at = time.monotonic()


backlog_gauges = BacklogGauges()
