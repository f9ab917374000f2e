"""The age policy each process answers from, read at most once a second per database.

Every guardian's read of messages, every device's mode, every listening request and every
consent check of messages or listening needs the policy, so a process reads the row at most
once per ``ttl`` (1 s) per database and answers from what it read in between. The process
that stores a change puts the new policy in at once, after its commit (``put``): its next
request answers by it; every other process within ``ttl``. A short TTL rather than a notice
over ``kit.notices``: nothing to subscribe to or to miss, and one indexed query a second per
process is nothing beside the requests it serves.

Entries are held per engine (a process may serve several databases, as the tests do: a new
engine per test, so a policy one test stored is never answered to the next). A read that was
on its way while a change was put does not overwrite the change with what it read.
The clock is injected (``time.monotonic`` by default) so tests move it instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from parental.age_policy import repository
from parental.age_policy.policy import AgePolicy

DEFAULT_TTL = 1.0


@dataclass(frozen=True)
class _Held:
    read_at: float
    generation: int  # how many changes this process put
    policy: AgePolicy | None  # None: the carrier stored none


def _engine(session: AsyncSession) -> AsyncEngine | None:
    bind = session.bind
    if isinstance(bind, AsyncConnection):
        return bind.engine
    return bind if isinstance(bind, AsyncEngine) else None


class AgePolicyCache:
    def __init__(
        self, *, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._held: WeakKeyDictionary[AsyncEngine, _Held] = WeakKeyDictionary()

    async def stored(self, session: AsyncSession) -> AgePolicy | None:
        """The carrier's policy in ``session``'s database (None: none stored), as read at
        most ``ttl`` ago."""
        engine = _engine(session)
        if engine is None:  # not bound to an engine: nothing to key an entry by
            return await repository.stored(session)
        now = self._clock()
        held = self._held.get(engine)
        if held is not None and now - held.read_at < self.ttl:
            return held.policy
        generation = held.generation if held is not None else 0
        policy = await repository.stored(session)
        latest = self._held.get(engine)
        if (latest.generation if latest is not None else 0) == generation:
            self._held[engine] = _Held(now, generation, policy)
        return policy

    def put(self, session: AsyncSession, policy: AgePolicy) -> None:
        """``policy`` was committed in ``session``'s database: answer by it from now on."""
        engine = _engine(session)
        if engine is None:
            return
        held = self._held.get(engine)
        generation = (held.generation if held is not None else 0) + 1
        self._held[engine] = _Held(self._clock(), generation, policy)

    def clear(self) -> None:
        """Forget every entry (the next read of each database asks it)."""
        self._held.clear()


#: The process's cache, used by ``service.current`` and the carrier's route.
age_policy_cache = AgePolicyCache()
