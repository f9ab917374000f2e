"""Message text at rest: AES-256-GCM (``cryptography``), one key per id, several ids at once.

Each sealed value is ``nonce (12 bytes) || ciphertext+tag`` under the current key, stored next
to its key id. The associated data binds it to its row (child, device, app, conversation,
message): a value copied to another row does not open. Rotation: add a new key, make it
current (new rows use it), and ``rekey`` the old rows in batches while both keys are known;
then drop the old key. Identifiers (conversation and message ids) are never stored in clear
either: they are keyed hashes (``identity``), stable across key rotations, so a message sent
twice is recognised.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32


class KeyError_(ValueError):
    """A key set that cannot work (no key, a key of the wrong size, an unknown current id)."""


class UnknownKey(LookupError):
    """A sealed value under a key id this process does not have (dropped too early)."""


def decode_key(text: str) -> bytes:
    """A key given as URL-safe or standard base64 of 32 bytes."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise KeyError_("a key must be base64 of 32 random bytes") from exc
    if len(raw) != KEY_BYTES:
        raise KeyError_(f"a key must be {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def derived_key(secret: str, purpose: str) -> bytes:
    """A key derived from the service's secret, for the embedded default (no keys set)."""
    return hmac.new(secret.encode(), f"conversations:{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes


class MessageCipher:
    """Seals and opens message fields; ``identity`` hashes identifiers."""

    def __init__(self, keys: Mapping[str, bytes], current: str, *, identity_key: bytes) -> None:
        if not keys:
            raise KeyError_("at least one message key is needed")
        if current not in keys:
            raise KeyError_(f"the current key id {current!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise KeyError_(f"key {key_id!r} must be {KEY_BYTES} bytes")
            if not key_id or len(key_id) > 16:
                raise KeyError_("a key id is 1 to 16 characters")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current
        self._identity_key = identity_key

    def seal(self, plaintext: bytes, *, aad: bytes) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        return Sealed(self.current, nonce + self._keys[self.current].encrypt(nonce, plaintext, aad))

    def open(self, sealed: Sealed, *, aad: bytes) -> bytes:
        """The plaintext; ``UnknownKey`` for a dropped key, ``InvalidTag`` (from
        ``cryptography``) for a value that was altered or belongs to another row."""
        aead = self._keys.get(sealed.key_id)
        if aead is None:
            raise UnknownKey(sealed.key_id)
        nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        return aead.decrypt(nonce, body, aad)

    def reseal(self, sealed: Sealed, *, aad: bytes) -> Sealed:
        """The same plaintext under the current key (as it is if already so)."""
        if sealed.key_id == self.current:
            return sealed
        return self.seal(self.open(sealed, aad=aad), aad=aad)

    def identity(self, *parts: str) -> str:
        """A keyed hash naming an identifier without storing it (hex, 64 characters)."""
        message = "\x1f".join(parts).encode()
        return hmac.new(self._identity_key, message, hashlib.sha256).hexdigest()
