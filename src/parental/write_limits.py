"""The general write limit: every write without a limit of its own counts against its caller.

Issue 9 wants every write rate-limited. The routes that are abused in known ways count rules
of their own (sign-in codes per phone, pairing per address, uploads per device); those are
named in ``OWN_LIMITS``, with the rules they count. Every other POST, PUT, PATCH and DELETE
counts ``limit_writes_per_caller`` (a moving window) before the route runs, and is answered
429 with ``Retry-After`` once it is spent. ``tests/parental/test_write_limits.py`` proves both
halves for every write route the app has, so a new route is covered without a line here.

The caller is the credential's subject: a parent's or staff member's signed token by its
subject (every token the account holds shares the allowance), a device token or service key
by a keyed hash of itself (one credential per device and carrier system). A request without
credentials, or with a token whose signature fails, counts against its address. The token is
not looked up here: an unknown opaque token gets an allowance of its own and then the 401 of
the route's authentication.
"""

from __future__ import annotations

import re
from typing import Any

import jwt
from fastapi import Request

from parental.deps import RuntimeDep
from parental.kit.ratelimit import Rule
from parental.kit.security import JWT_ALGORITHM, keyed_hash

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Writes that count limits of their own (the rules named): the general limit would only add a
# second count, and a Redis round trip on a device's upload paths.
OWN_LIMITS: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/auth/sign-in-codes"): (
        "code-request:ip",
        "code-request:phone",
        "code-request:phone:day",
    ),
    ("POST", "/v1/auth/tokens"): ("code-attempt:ip", "code-attempt:phone"),
    ("POST", "/v1/device/pair"): ("pairing:ip",),
    ("POST", "/admin/v1/auth/tokens"): ("staff-login:ip",),
    ("POST", "/v1/children/{child_id}/filter-reports"): ("filter-report:reporter",),
    ("POST", "/v1/device/filter-reports"): ("filter-report:reporter",),
    ("POST", "/v1/filter/reports"): ("filter-report:ip",),
    ("PUT", "/v1/push-tokens"): ("push-token-write:account",),
    ("DELETE", "/v1/push-tokens/{token_id}"): ("push-token-write:account",),
    ("POST", "/v1/device/locations"): ("location-upload:device",),
    ("POST", "/v1/device/usage"): ("usage-upload:device",),
    ("POST", "/v1/device/messages"): ("message-upload:device",),
    ("POST", "/v1/device/screen-time/requests"): ("screen-time-request:device",),
    ("POST", "/v1/device/screen-time/tasks/{task_id}/done"): ("screen-time-request:device",),
}

# POSTs that change nothing: a batch of names sent for verdicts (the carrier's resolver asks
# all day, mostly answered by the ASGI fast path in front of the route).
NOT_WRITES: dict[tuple[str, str], str] = {
    ("POST", "/v1/filter/check"): "verdicts for a batch of names; nothing is stored",
}

RULE_NAME = "writes:caller"


def _pattern(path: str) -> re.Pattern[str]:
    segments = ["[^/]+" if part.startswith("{") else re.escape(part) for part in path.split("/")]
    return re.compile("/".join(segments))


_EXEMPT = [(method, _pattern(path)) for method, path in (*OWN_LIMITS.keys(), *NOT_WRITES.keys())]


def is_exempt(method: str, path: str) -> bool:
    """Whether the request ``method path`` (a concrete path) is a write of ``OWN_LIMITS`` or
    not a write at all."""
    return any(m == method and pattern.fullmatch(path) for m, pattern in _EXEMPT)


def caller_key(request: Request, secret: str) -> str:
    """Whom a write counts against (see the module's docstring); never the credential itself."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        if token.count(".") == 2:
            try:
                claims = jwt.decode(
                    token,
                    secret,
                    algorithms=[JWT_ALGORITHM],
                    options={"verify_aud": False, "verify_exp": False, "require": ["sub"]},
                )
            except jwt.PyJWTError:
                pass  # a forged or broken token: the route will refuse it; count the address
            else:
                return f"subject:{claims.get('aud')}:{claims['sub']}"
        else:
            return "credential:" + keyed_hash(secret, f"write-limit:{token}")[:32]
    host = request.client.host if request.client else "unknown"
    return "address:" + keyed_hash(secret, f"write-limit:{host}")[:32]


async def limit_writes(request: Request, runtime: RuntimeDep) -> None:
    """Count a write against its caller's general allowance (429 with Retry-After when spent).

    An app-wide dependency, so it runs before the route's own dependencies (authentication,
    the session): a caller over the limit costs no database work.
    """
    if request.method not in WRITE_METHODS:
        return
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    if is_exempt(request.method, path):
        return
    await runtime.limiter.hit(
        Rule(RULE_NAME, runtime.settings.limit_writes_per_caller),
        caller_key(request, runtime.secret),
        detail="Too many changes from this caller; try again later.",
    )


def declare_in_openapi(spec: dict[str, Any]) -> dict[str, Any]:
    """Show the 429 on every write of ``spec`` that does not declare one already."""
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method.upper() not in WRITE_METHODS or (method.upper(), path) in NOT_WRITES:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "429",
                {
                    "description": "TooManyRequests",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    },
                },
            )
    return spec
