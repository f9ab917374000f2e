"""The per-source limit on UDP queries: a token bucket per source address.

A phone asks a few names a second, a few dozen when an app starts; a source asking hundreds
a second for long is a flood (or a reflection attack using our answers), and answering it
would cost every other line its share of the process. Queries over the limit are dropped
before anything else is done with them. Networks of trusted resolvers (a carrier resolver in
front of us sends every line's queries from a few addresses) are exempt.

The native fast path applies the same rule in C (``native_args`` hands it over); this class
is the rule for the pure-Python listener.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

Network = IPv4Network | IPv6Network


class SourceLimiter:
    """``rate`` queries a second per source, ``burst`` at once (``rate`` 0: no limit)."""

    def __init__(
        self,
        rate: float,
        burst: float,
        exempt: Sequence[Network] = (),
        *,
        size: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.exempt = tuple(exempt)
        self.size = size
        self.clock = clock
        self.limited = 0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, source: str) -> bool:
        """Whether a query from ``source`` may be answered now (taking a token if so)."""
        if self.rate <= 0 or self._exempt(source):
            return True
        now = self.clock()
        tokens, last = self._buckets.pop(source, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[source] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self.size:
            self._buckets.popitem(last=False)
        if not allowed:
            self.limited += 1
        return allowed

    def _exempt(self, source: str) -> bool:
        if not self.exempt:
            return False
        try:
            address = ip_address(source)
        except ValueError:
            return False
        return any(address in network for network in self.exempt)

    def native_args(self) -> tuple[float, float, list[tuple[bytes, int]]]:
        """The arguments of ``FastPath.limit`` for the same rule."""
        networks = [(n.network_address.packed, n.prefixlen) for n in self.exempt]
        return self.rate, self.burst, networks
