"""Which line holds a source address, answered from memory in a few dictionary probes.

The DNS front end asks this for every query, so it must cost about as much as parsing the
address: IPv4 is one probe on the exact address; IPv6 is one probe per prefix length that
some binding uses, longest first (carriers delegate one or two lengths, /64 and /56, so that is
one or two probes), each keyed by the address's integer shifted down to the prefix.

IPv4 keys are the packed address itself (no conversion); IPv6 keys are integers.

An index is never changed once other code can see it: ``with_changes`` returns a new one, and
the holder swaps its reference, so a lookup in flight finishes on the index it started with.
Expiry is checked at lookup time, so a binding the carrier stopped refreshing stops matching
at its expiry even before the next reload.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from socket import AF_INET, AF_INET6, inet_pton
from typing import NamedTuple

from parental.lines.addresses import MAPPED_PREFIX, V6_BITS, Network


class BoundLine(NamedTuple):  # tuples, not dataclasses: a fifth of the cost to build
    """The line a live binding points at, and when the binding lapses (Unix seconds)."""

    line_id: uuid.UUID
    expires_at: float


class Binding(NamedTuple):
    """One live binding as loaded from SQL."""

    network: Network
    line: BoundLine


class BindingIndex:
    __slots__ = ("_v4", "_v6", "_v6_lengths")

    def __init__(
        self, v4: dict[bytes, BoundLine], v6: dict[int, dict[int, BoundLine]] | None = None
    ) -> None:
        self._v4 = v4
        self._v6 = {length: table for length, table in (v6 or {}).items() if table}
        # Longest first; each entry also carries the shift that turns an address into its key.
        self._v6_lengths = tuple(
            (V6_BITS - length, self._v6[length]) for length in sorted(self._v6, reverse=True)
        )

    @classmethod
    def build(cls, bindings: Iterable[Binding]) -> BindingIndex:
        index = cls({}, {})
        index._apply(bindings, ())
        return cls(index._v4, index._v6)

    def __len__(self) -> int:
        return len(self._v4) + sum(len(table) for table in self._v6.values())

    def lookup(
        self, ip: str | bytes, *, now: float | None = None, widest: int = V6_BITS
    ) -> BoundLine | None:
        """The line bound to ``ip`` (text, or 4/16 packed bytes) now; ValueError if ``ip`` is
        not an address. ``widest`` limits IPv6 matches to prefixes no longer than it (an EDNS
        Client Subnet of /56 must not match a /64 inside it).

        Written out in one function: this runs for every DNS query, and each call saved is a
        tenth of its cost (``bench/bench_bindings.py``).
        """
        if isinstance(ip, str):
            try:
                packed = inet_pton(AF_INET6 if ":" in ip else AF_INET, ip)
            except (OSError, UnicodeError) as exc:
                raise ValueError(f"not an IP address: {ip!r}") from exc
        else:
            packed = ip
        found: BoundLine | None = None
        if len(packed) == 4:
            found = self._v4.get(packed)
        elif len(packed) == 16:
            if packed[:12] == MAPPED_PREFIX:
                found = self._v4.get(packed[12:])
            else:
                value = int.from_bytes(packed)
                for shift, table in self._v6_lengths:
                    if V6_BITS - shift > widest:
                        continue
                    found = table.get(value >> shift)
                    if found is not None:
                        break
        else:
            raise ValueError("a packed address has 4 or 16 bytes")
        if found is None:
            return None
        return found if found.expires_at > (time.time() if now is None else now) else None

    def with_changes(self, live: Iterable[Binding], ended: Iterable[Network]) -> BindingIndex:
        """A new index: ``ended`` networks removed, then ``live`` bindings set (a network's new
        line replaces its old one). The dictionaries are copied, so this one stays as it was."""
        copy = BindingIndex(dict(self._v4), {n: dict(t) for n, t in self._v6.items()})
        copy._apply(live, ended)
        return BindingIndex(copy._v4, copy._v6)

    def _apply(self, live: Iterable[Binding], ended: Iterable[Network]) -> None:
        for network in ended:
            if network.version == 4:
                self._v4.pop(network.value.to_bytes(4), None)
            else:
                table = self._v6.get(network.length)
                if table is not None:
                    table.pop(network.value >> (V6_BITS - network.length), None)
        for binding in live:
            network = binding.network
            if network.version == 4:
                self._v4[network.value.to_bytes(4)] = binding.line
            else:
                table = self._v6.setdefault(network.length, {})
                table[network.value >> (V6_BITS - network.length)] = binding.line
