from __future__ import annotations

import uuid

from parental.kit.events import Event


class SelfHarmBlocked(Event):
    """The filter kept a child from a name listed as promoting suicide or self-harm.

    Published at most once a minute per child and name (a page load asks many times); the
    notification side decides how a guardian is told.
    """

    child_id: uuid.UUID
    category: str
    host: str
