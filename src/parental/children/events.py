"""Events about a child themselves (not about what the child's devices report)."""

from __future__ import annotations

import uuid
from datetime import date

from parental.kit.events import Event


class ChildCameOfAge(Event):
    """The child turned 18 in the child's zone: monitoring has ended for good, and what is
    held about the child is deleted on ``erase_on`` (``parental.child_data.step_down``)."""

    child_id: uuid.UUID
    adult_on: date  # the 18th birthday
    erase_on: date  # the local day the monitored data is deleted, after the grace period
