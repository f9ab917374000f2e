"""The signed-in guardian's notification preferences (``preferences`` says what they mean).

The routes take no id: a guardian reads and replaces their own preferences only.
"""

from __future__ import annotations

from fastapi import APIRouter

from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.deps import RuntimeDep, SessionDep
from parental.kit.errors import error_responses
from parental.notifications.preferences import service
from parental.notifications.preferences.schemas import (
    NotificationPreferences,
    NotificationPreferencesRead,
)

router = APIRouter(tags=["notifications"], responses=error_responses(InvalidAccessToken))


@router.get("/notification-preferences")
async def get_notification_preferences(
    account: CurrentAccount, session: SessionDep, runtime: RuntimeDep
) -> NotificationPreferencesRead:
    """The notices the signed-in guardian gets, their quiet hours and language."""
    return await service.read_preferences(
        session, account=account, default_zone=runtime.settings.notification_default_timezone
    )


@router.put("/notification-preferences")
async def update_notification_preferences(
    body: NotificationPreferences, account: CurrentAccount, session: SessionDep, runtime: RuntimeDep
) -> NotificationPreferencesRead:
    """Replace the signed-in guardian's notification preferences (sent whole)."""
    return await service.save_preferences(
        session,
        account=account,
        body=body,
        now=runtime.clock.now(),
        default_zone=runtime.settings.notification_default_timezone,
    )
