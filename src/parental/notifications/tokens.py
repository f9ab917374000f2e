"""A guardian's FCM registration tokens (one per phone with the parent app).

The app registers its token at sign-in and again whenever FCM gives it a new one or it starts
(``register``: idempotent, and ``refreshed_at`` says when the app last vouched for it). A
token registered by another account moves to the caller: the phone changed hands or users.
Tokens FCM reports gone are deleted by the dispatcher; tokens no app refreshed for
``push_token_stale_days`` by the purge. A token is never logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parental.notifications.models import PushToken


async def register(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    token: str,
    platform: str,
    app_version: str,
    locale: str,
    now: datetime,
) -> PushToken:
    """Store or refresh ``token`` for ``account_id`` (one statement: safe when the app sends
    it twice at once)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    fresh = {
        "account_id": account_id,
        "platform": platform,
        "app_version": app_version,
        "locale": locale,
        "refreshed_at": now,
    }
    statement = (
        insert(PushToken)
        .values(id=uuid.uuid4(), token=token, created_at=now, **fresh)
        .on_conflict_do_update(index_elements=["token"], set_=fresh)
        .returning(PushToken)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def list_for(session: AsyncSession, account_id: uuid.UUID) -> list[PushToken]:
    """The account's tokens, most recently refreshed first."""
    query = (
        select(PushToken)
        .where(PushToken.account_id == account_id)
        .order_by(PushToken.refreshed_at.desc(), PushToken.id)
    )
    return list((await session.scalars(query)).all())


async def get_owned(
    session: AsyncSession, token_id: uuid.UUID, account_id: uuid.UUID
) -> PushToken | None:
    """The token if it is ``account_id``'s."""
    row = await session.get(PushToken, token_id)
    return row if row is not None and row.account_id == account_id else None


async def of_accounts(
    session: AsyncSession, account_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[PushToken]]:
    """Each account's tokens (accounts without any are missing)."""
    ids = set(account_ids)
    out: dict[uuid.UUID, list[PushToken]] = {}
    if not ids:
        return out
    query = select(PushToken).where(PushToken.account_id.in_(ids)).order_by(PushToken.id)
    for row in (await session.scalars(query)).all():
        out.setdefault(row.account_id, []).append(row)
    return out


async def delete_ids(session: AsyncSession, token_ids: Iterable[uuid.UUID]) -> int:
    """Delete these tokens (FCM said they no longer reach a phone)."""
    ids = set(token_ids)
    if not ids:
        return 0
    return await _deleted(session, delete(PushToken).where(PushToken.id.in_(ids)))


async def purge_stale(session: AsyncSession, *, before: datetime) -> int:
    """Delete tokens last refreshed before ``before``."""
    return await _deleted(session, delete(PushToken).where(PushToken.refreshed_at < before))


async def _deleted(session: AsyncSession, statement: Any) -> int:
    result: Any = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)
