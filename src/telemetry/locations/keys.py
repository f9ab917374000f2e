"""The id of a stored fix, derived from what makes it the same fix: who sent it and when.

A device's fix is the same fix when the same device sends it again for the same instant; the
carrier's positions of a line have no device, so theirs are the same fix for the same child
and instant. The id is computed from that key, so the primary key is the unique index that
makes uploads idempotent (an insert that ignores conflicts stores a resent fix once) and no
second unique index has to be kept up to date on every insert.

Like a UUIDv7, an id begins with the fix time in milliseconds: ids of a time range are a range
of the primary key, so inserts of recent fixes append to the index and the retention purge
deletes a range of it (``before``) without an index on the time of its own. The other 80 bits
are a digest of the full key (microseconds included); two different fixes in the same
millisecond share an id only if their digests collide (about 1 in 10^24).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DEVICE = b"d"
_CARRIER = b"c"


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _id(kind: bytes, origin: uuid.UUID, fixed_at: datetime) -> uuid.UUID:
    micros = _micros(fixed_at)
    digest = hashlib.blake2b(
        kind + origin.bytes + micros.to_bytes(8, "big", signed=True), digest_size=10
    ).digest()
    return uuid.UUID(bytes=(micros // 1000).to_bytes(6, "big") + digest)


def device_fix_id(device_id: uuid.UUID, fixed_at: datetime) -> uuid.UUID:
    """The id of ``device_id``'s fix at ``fixed_at`` (aware)."""
    return _id(_DEVICE, device_id, fixed_at)


def carrier_fix_id(child_id: uuid.UUID, fixed_at: datetime) -> uuid.UUID:
    """The id of the carrier's position of ``child_id``'s line at ``fixed_at`` (aware)."""
    return _id(_CARRIER, child_id, fixed_at)


def first_id_at(at: datetime) -> uuid.UUID:
    """The lowest id of a fix at or after ``at`` (to the millisecond): ``id < first_id_at(t)``
    holds exactly for fixes before ``t``'s millisecond."""
    return uuid.UUID(bytes=(_micros(at) // 1000).to_bytes(6, "big") + bytes(10))
