"""The request id: which request a log line, an outbox row or a push send came from.

An id comes in with the request (``X-Request-ID`` from the carrier's proxy or the app) when it
is well formed, or is made here; it goes back in the response's ``X-Request-ID`` and stays in a
context variable for as long as the request's task runs, so every log line written on the way
(``logs.add_request_id``) and every outbox row enqueued by it carry it. Work started outside a
request (the worker's rounds) has none.

A context variable of our own rather than ``structlog.contextvars.bind_contextvars``: setting
it is one call per request, and code that is not logging (the outbox) reads it directly.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from contextvars import ContextVar, Token

HEADER = b"x-request-id"
MAX_LENGTH = 64

# Letters, digits and a few separators: a UUID, a hex trace id, "edge-1:42". Anything else
# (spaces, quotes, a phone number with its "+", an over-long value) is replaced, so a client
# cannot write into the logs through it.
_WELL_FORMED = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:-]{0,%d}" % (MAX_LENGTH - 1))

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The id of the request this code runs for; None outside a request."""
    return _current.get()


def well_formed(value: bytes) -> bool:
    return _WELL_FORMED.fullmatch(value) is not None


class _Ids:
    """Ids as a random per-process prefix and a counter: unique across processes and restarts
    without a call to the OS random source per request (a few hundred ns less than a UUID)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._prefix = secrets.token_hex(6)
        self._count = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}-{next(self._count):x}"


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.reset)  # a forked child must not repeat its parent's


def new() -> str:
    return _ids.next()


def bind(value: str | None) -> Token[str | None]:
    """Make ``value`` the current id; returns the token ``unbind`` takes."""
    return _current.set(value)


def unbind(token: Token[str | None]) -> None:
    _current.reset(token)
