"""What the usage routers know of their callers. The composition root decides who they are
(a guardian of the child, the child's own device) and hands them over with the request's
session; each router's protocol adds what it needs to these."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession


class ChildCaller(Protocol):
    """Someone acting for one child."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def child_id(self) -> uuid.UUID: ...

    @property
    def zone(self) -> ZoneInfo:
        """The child's time zone: days are cut, limits counted and extra time given in it."""
        ...

    def now(self) -> datetime: ...


class DeviceCaller(ChildCaller, Protocol):
    """The child's own device."""

    @property
    def device_id(self) -> uuid.UUID: ...
