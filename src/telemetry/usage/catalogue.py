"""The category of each app a child uses (placeholder until the app catalogue lands: every app
is ``other``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.usage.policy import Category


async def categories_for(
    session: AsyncSession, child_id: uuid.UUID, apps: Iterable[str]
) -> dict[str, Category]:
    """The category of each of ``apps`` for ``child_id``."""
    return dict.fromkeys(apps, Category.OTHER)
