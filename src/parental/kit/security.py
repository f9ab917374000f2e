"""Security primitives: random secrets, keyed hashes for stored tokens, JWTs, password hashes.

Secrets the server hands out (one-time codes, refresh tokens, device tokens, service keys) are
stored only as an HMAC-SHA256 keyed with the server secret, so a copy of the database alone
cannot be turned back into usable credentials, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

JWT_ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["exp", "iat", "aud", "sub"]

# Unambiguous for people reading a code aloud or off a screen: no 0/O, 1/I/L, U/V, 5/S.
UNAMBIGUOUS_ALPHABET = "ABCDEFGHJKMNPQRTWXYZ2346789"


class InvalidTokenError(Exception):
    """A JWT that is malformed, badly signed, for another audience or expired."""


def keyed_hash(secret: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``secret``, hex encoded: how tokens and codes are stored."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_token(prefix: str, nbytes: int = 32) -> str:
    """A random bearer token with a readable prefix saying what it is (``rt_``, ``dt_``, ...)."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def new_code(length: int, alphabet: str = UNAMBIGUOUS_ALPHABET) -> str:
    """A random code of ``length`` characters drawn uniformly from ``alphabet``."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_numeric_code(digits: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def encode_jwt(
    *,
    secret: str,
    subject: str,
    audience: str,
    issued_at: datetime,
    ttl: timedelta,
    extra: dict[str, Any] | None = None,
) -> str:
    claims: dict[str, Any] = {
        **(extra or {}),
        "sub": subject,
        "aud": audience,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + ttl).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def decode_jwt(token: str, *, secret: str, audience: str, now: datetime) -> dict[str, Any]:
    """Verify signature, algorithm, audience and required claims; expiry against ``now``.

    Expiry is checked here rather than by PyJWT so the injected clock decides what "now" is.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=audience,
            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= int(now.timestamp()):
        raise InvalidTokenError("token has expired")
    return claims


_password_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
