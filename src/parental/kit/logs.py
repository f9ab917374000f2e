"""Logs as JSON lines through structlog, every record with its request id, none with a phone
number in full.

The code logs through the standard library (``logging.getLogger(__name__)``), and so do
uvicorn, SQLAlchemy and the firebase SDK; ``configure`` puts one handler on the root logger
whose ``structlog.stdlib.ProcessorFormatter`` renders every record as one JSON object per
line: ``timestamp`` (UTC), ``level``, ``logger``, ``event`` (the formatted message), the
``extra=`` fields, ``request_id`` when the record was written for a request, and
``exception`` as text. ``structlog.get_logger()`` loggers go through the same formatter.

Safety nets, whatever a caller wrote: a phone number in any string field is masked the way
``kit.phone.mask`` does (``+7********67``), and fields named like coordinates or a
message's text are dropped. uvicorn's access lines are redacted before that
(``access_log``: masked path, no query string).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import Processor

from parental.kit import request_id
from parental.kit.access_log import redact_access_log
from parental.kit.phone import mask

LogFormat = Literal["json", "console"]

# "+" and 7 to 15 digits, or the same URL-encoded ("%2B"), not inside a longer number.
_PHONE = re.compile(r"(?:\+|%2[bB])(\d{7,15})(?!\d)")
# Personal data that has no business in a log line, should a caller pass it as a field.
DROPPED_FIELDS = frozenset({"latitude", "longitude", "lat", "lon", "text", "message_text"})


def add_request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The current request's id, unless the record names one itself (the push dispatcher
    logs the id stored with the outbox row)."""
    if "request_id" not in event:
        rid = request_id.current()
        if rid is not None:
            event["request_id"] = rid
    return event


def mask_phone_numbers(text: str) -> str:
    return _PHONE.sub(lambda found: mask("+" + found.group(1)), text)


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask phone numbers in every string field; drop fields that would hold places or
    message texts."""
    for name in DROPPED_FIELDS.intersection(event):
        del event[name]
    for name, value in event.items():
        if isinstance(value, str) and ("+" in value or "%2" in value):
            event[name] = mask_phone_numbers(value)
    return event


# What other formatters and uvicorn leave on a record: the formatted message again (already
# the event), its time as text, uvicorn's message with terminal colours.
_LEFTOVERS = ("message", "asctime", "color_message")


def _drop_leftovers(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for name in _LEFTOVERS:
        event.pop(name, None)
    return event


def _shared() -> list[Processor]:
    """What both stdlib records and structlog events go through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def formatter(fmt: LogFormat = "json") -> structlog.stdlib.ProcessorFormatter:
    """The formatter of the root handler (tests attach it to a handler of their own)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        # Extras first, so a record's own request_id wins over the context's.
        foreign_pre_chain=[
            structlog.stdlib.ExtraAdder(),
            _drop_leftovers,
            *_shared(),
            add_request_id,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )


class _Handler(logging.StreamHandler[TextIO]):
    """Ours, so that configuring again replaces it instead of adding a second one."""


def configure(
    level: str | int = "INFO",
    fmt: LogFormat = "json",
    stream: TextIO | None = None,
    *,
    force: bool = False,
) -> None:
    """Route every log record of the process through structlog's formatter (see module).

    Like ``logging.basicConfig``, it leaves a root logger that already has handlers of
    someone else's (a test runner, an application embedding ours) as it is, unless
    ``force``; calling it again replaces its own handler."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _Handler)]
    if force or len(ours) == len(root.handlers):
        for old in ours:
            root.removeHandler(old)
        handler = _Handler(stream or sys.stderr)
        handler.setFormatter(formatter(fmt))
        root.addHandler(handler)
        root.setLevel(level)
    structlog.configure(
        processors=[
            *_shared(),
            add_request_id,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    redact_access_log()  # no phone numbers or looked-up names in the servers' request lines
