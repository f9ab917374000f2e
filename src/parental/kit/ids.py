"""Identifiers for rows: random UUIDs, so ids reveal neither counts nor order."""

from __future__ import annotations

import uuid


def new_id() -> uuid.UUID:
    """A fresh random identifier."""
    return uuid.uuid4()
