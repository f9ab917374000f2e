"""Sealing message fields: round trips, binding to the row, rotation, bad keys."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from telemetry.conversations.crypto import (
    KeyError_,
    MessageCipher,
    Sealed,
    UnknownKey,
    decode_key,
    derived_key,
)

IDENTITY = derived_key("secret", "identity")


def cipher(current: str = "k1", **keys: bytes) -> MessageCipher:
    return MessageCipher(keys or {"k1": os.urandom(32)}, current, identity_key=IDENTITY)


def test_a_sealed_value_opens_only_with_its_row() -> None:
    c = cipher()
    sealed = c.seal("Привет, как дела?".encode(), aad=b"row-1")
    assert "Привет".encode() not in sealed.blob
    assert c.open(sealed, aad=b"row-1") == "Привет, как дела?".encode()
    with pytest.raises(InvalidTag):
        c.open(sealed, aad=b"row-2")
    tampered = Sealed(sealed.key_id, sealed.blob[:-1] + bytes([sealed.blob[-1] ^ 1]))
    with pytest.raises(InvalidTag):
        c.open(tampered, aad=b"row-1")


def test_the_same_text_seals_differently_each_time() -> None:
    c = cipher()
    assert c.seal(b"same", aad=b"r").blob != c.seal(b"same", aad=b"r").blob


def test_rotation_keeps_old_rows_readable_and_reseals_them() -> None:
    old, new = os.urandom(32), os.urandom(32)
    before = cipher("k1", k1=old)
    sealed = before.seal(b"text", aad=b"r")
    after = cipher("k2", k1=old, k2=new)
    assert after.open(sealed, aad=b"r") == b"text"
    moved = after.reseal(sealed, aad=b"r")
    assert moved.key_id == "k2"
    assert after.reseal(moved, aad=b"r") is moved
    dropped = cipher("k2", k2=new)
    assert dropped.open(moved, aad=b"r") == b"text"
    with pytest.raises(UnknownKey):
        dropped.open(sealed, aad=b"r")


def test_identities_are_keyed_and_stable() -> None:
    a, b = cipher(), cipher()  # different message keys, same identity key
    assert a.identity("app", "chat-1") == b.identity("app", "chat-1")
    assert a.identity("app", "chat-1") != a.identity("app", "chat-2")
    assert a.identity("ab", "c") != a.identity("a", "bc")
    other = MessageCipher(
        {"k1": os.urandom(32)}, "k1", identity_key=derived_key("another", "identity")
    )
    assert other.identity("app", "chat-1") != a.identity("app", "chat-1")


def test_bad_keys_are_refused_with_a_reason() -> None:
    with pytest.raises(KeyError_, match="at least one"):
        MessageCipher({}, "k1", identity_key=IDENTITY)
    with pytest.raises(KeyError_, match="not among"):
        cipher("k9")
    with pytest.raises(KeyError_, match="32 bytes"):
        MessageCipher({"k1": b"short"}, "k1", identity_key=IDENTITY)
    with pytest.raises(KeyError_, match="32 bytes"):
        decode_key(base64.b64encode(b"x" * 16).decode())
    assert decode_key(base64.urlsafe_b64encode(b"k" * 32).decode().rstrip("=")) == b"k" * 32
