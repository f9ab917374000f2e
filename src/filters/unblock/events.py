from __future__ import annotations

import uuid

from parental.kit.events import Event


class UnblockRequested(Event):
    """A child asked from the block page for ``host`` to be opened.

    Published inside the filing transaction, once per new request and again when the child
    asks again for an open one (``ask_count``); the notification side tells the guardians,
    rate-limited as it sees fit.
    """

    request_id: uuid.UUID
    child_id: uuid.UUID
    host: str
    category: str | None
    ask_count: int
