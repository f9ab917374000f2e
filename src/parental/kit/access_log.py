"""Access log lines without personal data.

uvicorn logs every request as ``client - "METHOD path?query HTTP/1.1" status``. Paths name
lines by their number (``/carrier/v1/lines/+77071234567``) and query strings carry what was
looked up (``/v1/filter/check?url=...``, a child's browsing; ``?msisdn=``). The filter masks a
path segment that is a phone number the way ``kit.phone.mask`` does and drops the query, so
the line still tells which route answered what, and when.
"""

from __future__ import annotations

import logging
import re

from parental.kit.phone import mask

ACCESS_LOGGER = "uvicorn.access"

# A whole path segment of 7 to 15 digits, "+" (quoted by uvicorn as %2B) or not.
_NUMBER = re.compile(r"(?<=/)(?:%2[bB]|\+)?(\d{7,15})(?=/|$)")


def redact_path(path: str) -> str:
    """``path`` without its query string and with its phone numbers masked."""
    path = path.partition("?")[0]
    return _NUMBER.sub(lambda found: mask("+" + found.group(1)), path)


class AccessLogRedaction(logging.Filter):
    """Rewrites the path argument of uvicorn's access records (other records pass as they are)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_path(args[2]), args[3], args[4])
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger (once, however often it is called)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, AccessLogRedaction) for f in logger.filters):
        logger.addFilter(AccessLogRedaction())
