"""A guardian's phones for push notifications: the parent app registers the FCM token it got
(again on every start and whenever FCM renews it), lists and removes them.

- Registering is idempotent: the same token refreshes its row. A token another account
  registered moves to the caller (the phone changed hands); the answer does not say so.
- A token is shown back by its last 8 characters only, and never logged.
- Another account's token id is 404; writes are held to
  ``limit_push_token_writes_per_account`` (429).
"""

from __future__ import annotations

import uuid
from typing import cast

from fastapi import APIRouter, status

from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.deps import RuntimeDep, SessionDep
from parental.i18n import Locale
from parental.kit.errors import TooManyRequests, error_responses
from parental.kit.ratelimit import Rule
from parental.notifications import tokens
from parental.notifications.errors import PushTokenNotFound
from parental.notifications.models import PushToken
from parental.notifications.schemas import (
    PushPlatform,
    PushTokenCreate,
    PushTokenPage,
    PushTokenRead,
)
from parental.runtime import Runtime

router = APIRouter(tags=["notifications"], responses=error_responses(InvalidAccessToken))


def _read(row: PushToken) -> PushTokenRead:
    return PushTokenRead(
        id=row.id,
        token_end=row.token[-8:],
        platform=cast(PushPlatform, row.platform),
        app_version=row.app_version,
        locale=cast(Locale, row.locale),
        created_at=row.created_at,
        refreshed_at=row.refreshed_at,
    )


async def _limit(runtime: Runtime, account_id: uuid.UUID) -> None:
    rule = Rule("push-token-write:account", runtime.settings.limit_push_token_writes_per_account)
    await runtime.limiter.hit(rule, str(account_id))


@router.put("/push-tokens", responses=error_responses(TooManyRequests))
async def register_push_token(
    body: PushTokenCreate, account: CurrentAccount, session: SessionDep, runtime: RuntimeDep
) -> PushTokenRead:
    """Register this phone's FCM token for the caller, or refresh it."""
    await _limit(runtime, account.id)
    row = await tokens.register(
        session,
        account_id=account.id,
        token=body.token,
        platform=body.platform,
        app_version=body.app_version,
        locale=body.locale,
        now=runtime.clock.now(),
    )
    return _read(row)


@router.get("/push-tokens")
async def list_push_tokens(account: CurrentAccount, session: SessionDep) -> PushTokenPage:
    """The caller's phones registered for push notifications."""
    return PushTokenPage(items=[_read(row) for row in await tokens.list_for(session, account.id)])


@router.delete(
    "/push-tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(PushTokenNotFound, TooManyRequests),
)
async def delete_push_token(
    token_id: uuid.UUID, account: CurrentAccount, session: SessionDep, runtime: RuntimeDep
) -> None:
    """Stop sending notifications to one of the caller's phones."""
    await _limit(runtime, account.id)
    row = await tokens.get_owned(session, token_id, account.id)
    if row is None:
        raise PushTokenNotFound()
    await tokens.delete_ids(session, [row.id])
