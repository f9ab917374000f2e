"""The block page's form token: proof that a POST comes from a page we rendered just now.

The page has no session or cookie (it is served under whatever name was blocked), so the token
is stateless: an expiry and an HMAC over it, the blocked host and the line the page was shown
to. A form posted from another site, for another name, from another line or after
``ttl`` seconds does not verify.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from parental.kit.security import keyed_hash

NO_LINE = "-"  # a page shown to a source no binding names


def _mac(secret: str, host: str, line: str, expires: int) -> str:
    return keyed_hash(secret, f"blockpage|{host}|{line}|{expires}")


def issue(secret: str, *, host: str, line: str, now: datetime, ttl: int) -> str:
    expires = int(now.timestamp()) + ttl
    return f"{expires}.{_mac(secret, host, line, expires)}"


def verify(secret: str, token: str, *, host: str, line: str, now: datetime) -> bool:
    """True if ``token`` was issued for this host and line and has not expired."""
    raw_expires, _, mac = token.partition(".")
    if not raw_expires.isdigit() or len(raw_expires) > 12:
        return False
    expires = int(raw_expires)
    if expires <= int(now.timestamp()):
        return False
    return hmac.compare_digest(mac, _mac(secret, host, line, expires))
