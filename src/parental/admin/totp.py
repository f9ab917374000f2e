"""Time-based one-time codes (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps) for staff sign-in.

Hand-written with ``hmac``: the algorithm is a dozen lines (checked against the RFC's test
vectors in the tests), and a library would add a dependency for less. The shared secret is
sealed at rest with AES-GCM under a key derived from the service secret, so a database dump
alone does not give the codes; it is shown once, at enrolment, as an ``otpauth://`` URI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

STEP_SECONDS = 30
DIGITS = 6
# A code of the previous or next step is accepted too: phone clocks drift and people type slowly.
WINDOW = 1
ISSUER = "Child-safe SIM"
_SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA1
_NONCE_BYTES = 12


def new_secret() -> bytes:
    return secrets.token_bytes(_SECRET_BYTES)


def code_at(secret: bytes, step: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """The code of time step ``step`` (RFC 4226 HOTP with the step as counter)."""
    mac = hmac.new(secret, struct.pack(">Q", step), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: bytes, code: str, now: datetime) -> int | None:
    """The step within ``WINDOW`` of ``now`` whose code is ``code``, or None.

    Every candidate is compared in constant time, and all of them are, so the time taken
    does not say which step (if any) matched.
    """
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = step_of(now)
    found: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            found = step
    return found


def provisioning_uri(secret: bytes, username: str) -> str:
    """The ``otpauth://`` URI authenticator apps read (as text or a QR code)."""
    label = quote(f"{ISSUER}:{username}", safe="")
    query = urlencode(
        {
            "secret": base64.b32encode(secret).decode().rstrip("="),
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def _key(service_secret: str) -> AESGCM:
    key = hmac.new(service_secret.encode(), b"staff-totp-seal", hashlib.sha256).digest()
    return AESGCM(key)


def seal(secret: bytes, *, service_secret: str, staff_id: str) -> str:
    """``secret`` encrypted for storage; bound to the account, so it cannot be moved to another."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = _key(service_secret).encrypt(nonce, secret, staff_id.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


class UnreadableSecret(Exception):
    """A sealed secret that does not open under this service secret (rotated, or altered)."""


def unseal(stored: str, *, service_secret: str, staff_id: str) -> bytes:
    raw = base64.urlsafe_b64decode(stored.encode())
    try:
        return _key(service_secret).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], staff_id.encode()
        )
    except InvalidTag as exc:
        raise UnreadableSecret() from exc
