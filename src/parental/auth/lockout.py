"""Lockouts that grow: after a run of wrong codes, every attempt is refused for a while.

A sign-in code (6 digits) or a pairing code could be guessed given enough tries. The rate
limits (``parental.kit.ratelimit``) cap tries per window, but an attacker who waits out each
window keeps the same pace for ever. Here, once ``after_failures`` attempts for one phone (or
from one address) went wrong, every further attempt is refused with 429 and ``Retry-After``,
even one with the right code, for ``base_seconds``; each further lockout doubles the delay
(1, 2, 4 ... minutes) up to ``max_seconds``. A phone or address left alone for
``forget_seconds`` starts afresh.

Attempts are counted before the code is checked, and given back when it was right: parallel
guesses cannot slip past the count while the first ones are still being checked. The state
lives beside the rate limits (``RateLimiter.state``: Redis when configured, shared by every
process; process memory otherwise) and is timed by the injected clock, so tests move time
instead of sleeping. Keys hold a keyed hash of the phone or address, never the number itself.
Updates are compare-and-set on a sequence number (``Cache.set_newer``), so concurrent requests
in several processes never lose a count. When Redis is unreachable the state is kept in this
process's memory: looser, but it neither locks everyone out nor opens the door to guessing.
The routes' own rate limits are ``fail_closed`` and refuse first (503) while Redis is down,
so the memory only holds for requests that were already past them when Redis went away.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from parental.kit.cache import Cache, MemoryCache
from parental.kit.errors import TooManyRequests
from parental.kit.security import keyed_hash
from parental.settings import ParentalSettings

log = logging.getLogger(__name__)

# Compare-and-set rounds before giving up; only many requests racing on one key get close.
_CAS_ROUNDS = 20
_fallback = MemoryCache()


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong attempts start a lockout, and how long lockouts last."""

    name: str
    after_failures: int
    base_seconds: int
    max_seconds: int
    forget_seconds: int
    error: type[TooManyRequests] = TooManyRequests

    @classmethod
    def of(
        cls,
        settings: ParentalSettings,
        name: str,
        after_failures: int,
        error: type[TooManyRequests],
    ) -> LockoutPolicy:
        """A policy timed by the service's lockout settings."""
        return cls(
            name,
            after_failures,
            base_seconds=settings.lockout_base_seconds,
            max_seconds=settings.lockout_max_seconds,
            forget_seconds=settings.lockout_forget_seconds,
            error=error,
        )

    def delay(self, strikes: int) -> int:
        """Seconds of the ``strikes``-th lockout in a row: doubling, capped."""
        return int(min(self.max_seconds, self.base_seconds * 2 ** min(strikes - 1, 32)))


@dataclass(frozen=True)
class LockoutState:
    seq: int = 0  # bumped on every write: the compare-and-set rank
    failures: int = 0  # attempts counted since the last lockout began (in flight included)
    strikes: int = 0  # lockouts in a row, which sets the length of the next
    locked_until: float = 0.0  # epoch seconds on the runtime's clock
    last_at: float = 0.0


class Lockouts:
    """Counts attempts per (policy, identifier) and refuses them while a lockout runs."""

    def __init__(self, cache: Cache, *, secret: str) -> None:
        self._cache = cache
        self._secret = secret

    async def attempt(self, policy: LockoutPolicy, identifier: str, *, now: datetime) -> None:
        """Count one attempt, or raise ``policy.error`` (429, Retry-After) while locked out."""
        at = now.timestamp()

        def step(state: LockoutState) -> LockoutState:
            if state.locked_until > at:
                return state  # refused below; nothing to write
            if state.failures >= policy.after_failures:
                strikes = state.strikes + 1
                return replace(
                    state,
                    failures=0,
                    strikes=strikes,
                    locked_until=at + policy.delay(strikes),
                    last_at=at,
                )
            return replace(state, failures=state.failures + 1, last_at=at)

        state = await self._update(policy, identifier, at, step)
        if state.locked_until > at:
            raise policy.error(retry_after=math.ceil(state.locked_until - at))

    async def succeeded(
        self, policy: LockoutPolicy, identifier: str, *, now: datetime, forget: bool
    ) -> None:
        """The attempt was right: give it back, or (``forget``) clear the identifier's record.

        Forget for what the right code proves (the phone it was sent to); only give back for
        what it does not (an address shared by many parents behind a carrier's NAT).
        """
        at = now.timestamp()
        if forget:
            key = self._key(policy, identifier)
            try:
                await self._cache.delete(key)
            except Exception as exc:
                _unavailable(exc)
            await _fallback.delete(key)
            return
        await self._update(
            policy, identifier, at, lambda s: replace(s, failures=max(0, s.failures - 1))
        )

    def _key(self, policy: LockoutPolicy, identifier: str) -> str:
        digest = keyed_hash(self._secret, f"lockout:{policy.name}:{identifier}")[:32]
        return f"lockout:{policy.name}:{digest}"

    async def _update(
        self,
        policy: LockoutPolicy,
        identifier: str,
        at: float,
        step: Callable[[LockoutState], LockoutState],
    ) -> LockoutState:
        key = self._key(policy, identifier)
        ttl = policy.forget_seconds + policy.max_seconds
        for _ in range(_CAS_ROUNDS):
            state = _decode(await self._get(key))
            if state.last_at and at - state.last_at >= policy.forget_seconds:
                state = LockoutState(seq=state.seq)  # left alone long enough: start afresh
            new = step(state)
            if new == state:
                return state
            new = replace(new, seq=state.seq + 1)
            value = json.dumps(asdict(new)).encode()
            if await self._set_newer(key, value, rank=new.seq, ttl_seconds=ttl):
                return new
        # Lost every round to other writers: someone is hammering this key. Refuse the attempt
        # rather than let it through uncounted.
        log.warning("lockout %s: gave up after %d contended rounds", policy.name, _CAS_ROUNDS)
        return LockoutState(locked_until=at + policy.base_seconds)

    async def _get(self, key: str) -> bytes | None:
        try:
            return await self._cache.get(key)
        except Exception as exc:
            _unavailable(exc)
            return await _fallback.get(key)

    async def _set_newer(self, key: str, value: bytes, *, rank: int, ttl_seconds: int) -> bool:
        try:
            return await self._cache.set_newer(key, value, rank=rank, ttl_seconds=ttl_seconds)
        except Exception as exc:
            _unavailable(exc)
            return await _fallback.set_newer(key, value, rank=rank, ttl_seconds=ttl_seconds)


def _unavailable(exc: Exception) -> None:
    # Redis down: count in this process's memory rather than not at all.
    log.warning("lockout state unavailable in the cache, kept in memory: %s", exc)


def _decode(raw: bytes | None) -> LockoutState:
    if raw is None:
        return LockoutState()
    try:
        return LockoutState(**json.loads(raw))
    except (ValueError, TypeError):
        log.warning("unreadable lockout state replaced")
        return LockoutState()
