"""Typed events between packages: ``filters`` and ``telemetry`` publish, ``parental`` subscribes.

The in-process bus delivers to handlers registered for an event's class (or a base class).
A handler's failure is logged and does not stop the others or the publisher: whatever must
not be lost is written to the SQL outbox by the subscriber, inside the publisher's transaction
when it passes its session along.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

log = logging.getLogger(__name__)


class Event(BaseModel):
    """Base of every event: immutable, serialisable, stamped with when it happened."""

    model_config = ConfigDict(frozen=True)

    occurred_at: datetime


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        self._handlers[event_type].append(handler)

    async def publish(self, event: Event) -> int:
        """Deliver ``event`` to every matching handler; returns how many ran successfully."""
        delivered = 0
        for event_type in type(event).__mro__:
            for handler in self._handlers.get(event_type, []):
                try:
                    await handler(event)
                    delivered += 1
                except Exception:
                    log.exception("event handler %r failed for %s", handler, type(event).__name__)
        return delivered


class HeldEvents(EventBus):
    """A bus that keeps what is published, for a service that publishes inside its caller's
    transaction: the caller records the events with it (their notifications), then hands
    them on (``publish_to``)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    async def publish(self, event: Event) -> int:
        self.events.append(event)
        return 0

    async def publish_to(self, bus: EventBus) -> None:
        for event in self.events:
            await bus.publish(event)
