"""Read grants: what the full check last found about a guardian's token and a child.

A guardian's app asks where the child is every few seconds, and checking the token's account,
the child's family and the monitoring rules costs several database round trips each time. After
the full check passes, the reading route puts a grant here; the fast path of the same read
(``telemetry.locations.fast``) answers from it until it lapses, at most ``ttl`` seconds later.
So a guardian removed from the family, an expired token or a line that stops being a child SIM
reaches a process within ``ttl`` (the same rule as the filter's subject cache); the 18th
birthday is exact, as a grant never outlives monitoring. Every read answered from a grant is
still audited, row by row. Changes made in this process (a guardian or child removed, a line
changed) clear its grants at once.

Grants are kept per process: ``ttl`` in monotonic time, the birthday in the runtime's clock.
"""

from __future__ import annotations

import time as monotonic
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from parental.children.models import Child
from parental.children.monitoring import Monitoring


@dataclass(frozen=True)
class ReadGrant:
    account_id: uuid.UUID
    family_id: uuid.UUID
    child_id: uuid.UUID
    until: datetime  # aware: monitoring ends then (18th birthday)
    expires: float  # monotonic: the grant lapses then


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
        self._items: OrderedDict[tuple[str, uuid.UUID], ReadGrant] = OrderedDict()

    def grant(
        self,
        token: str,
        *,
        account_id: uuid.UUID,
        child: Child,
        status: Monitoring,
        now: datetime,
    ) -> None:
        """Note that ``token`` (of ``account_id``) may read ``child``'s data: the full check
        has just passed, with ``status`` the child's monitoring."""
        if self.ttl <= 0 or not status.active:
            return
        until = monitoring_ends_at(child, status)
        if now >= until:
            return
        key = (token, child.id)
        expires = self._clock() + self.ttl
        self._items[key] = ReadGrant(account_id, child.family_id, child.id, until, expires)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, token: str, child_id: uuid.UUID, now: datetime) -> ReadGrant | None:
        key = (token, child_id)
        found = self._items.get(key)
        if found is None:
            return None
        if now >= found.until or self._clock() >= found.expires:
            del self._items[key]
            return None
        return found

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
