"""A guardian's FCM registration tokens (one per phone with the parent app).

The app registers its token at sign-in and again whenever FCM gives it a new one or it starts
(``register``: idempotent, and ``refreshed_at`` says when the app last vouched for it). A
token registered by another account moves to the caller: the phone changed hands or users.
Tokens FCM reports gone are deleted by the dispatcher; tokens no app refreshed for
``push_token_stale_days`` by the purge. A token is never logged.

A child's device agent registers its own token the same way (``register_device``: one per
device; a token that was another device's moves, as when the agent is paired again on the
same phone), with its platform and language (``commands.push`` builds a command's message
for them). The dispatcher finds a recipient's tokens in either table (``of_accounts``: the
outbox names a guardian's account or a device), with the language each guardian's phone shows
(the ``locale`` its app registered with): a guardian's notice is written in the languages of
their phones (read with the guardians: ``notify``) and each phone gets its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, null, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parental.notifications.models import DevicePushToken, PushToken


@dataclass(frozen=True)
class Phone:
    """A token to send to: its row's id (a guardian's or a device's), the token, and for a
    guardian's phone the language its app shows (a device's message is written for it)."""

    id: uuid.UUID
    token: str
    locale: str | None = None


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
) -> dict[uuid.UUID, list[Phone]]:
    """Each recipient's tokens (recipients without any are missing): a guardian's phones, or
    a device's own token."""
    ids = set(account_ids)
    out: dict[uuid.UUID, list[Phone]] = {}
    if not ids:
        return out
    guardians = (
        select(PushToken.account_id, PushToken.id, PushToken.token, PushToken.locale)
        .where(PushToken.account_id.in_(ids))
        .order_by(PushToken.id)
    )
    devices = (
        select(DevicePushToken.device_id, DevicePushToken.id, DevicePushToken.token, null())
        .where(DevicePushToken.device_id.in_(ids))
        .order_by(DevicePushToken.id)
    )
    for query in (guardians, devices):
        for owner, row_id, token, locale in (await session.execute(query)).all():
            out.setdefault(owner, []).append(Phone(row_id, token, locale))
    return out


async def register_device(
    session: AsyncSession,
    *,
    device_id: uuid.UUID,
    token: str,
    platform: str,
    locale: str | None,
    now: datetime,
) -> DevicePushToken:
    """Store or refresh the device's token, with the agent's platform and language (it
    replaces the device's previous one)."""
    await _deleted(
        session,
        delete(DevicePushToken).where(
            DevicePushToken.token == token, DevicePushToken.device_id != device_id
        ),
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    fresh = {"token": token, "platform": platform, "locale": locale, "refreshed_at": now}
    statement = (
        insert(DevicePushToken)
        .values(id=uuid.uuid4(), device_id=device_id, created_at=now, **fresh)
        .on_conflict_do_update(index_elements=["device_id"], set_=fresh)
        .returning(DevicePushToken)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def device_token(session: AsyncSession, device_id: uuid.UUID) -> DevicePushToken | None:
    return await session.scalar(
        select(DevicePushToken).where(DevicePushToken.device_id == device_id)
    )


async def delete_device(session: AsyncSession, device_id: uuid.UUID) -> int:
    """Forget the device's token (it was revoked, or the agent signed out of push)."""
    return await _deleted(
        session, delete(DevicePushToken).where(DevicePushToken.device_id == device_id)
    )


async def delete_ids(session: AsyncSession, token_ids: Iterable[uuid.UUID]) -> int:
    """Delete these tokens (FCM said they no longer reach a phone)."""
    ids = set(token_ids)
    if not ids:
        return 0
    return await _deleted(session, delete(PushToken).where(PushToken.id.in_(ids))) + await _deleted(
        session, delete(DevicePushToken).where(DevicePushToken.id.in_(ids))
    )


async def purge_stale(session: AsyncSession, *, before: datetime) -> int:
    """Delete tokens (guardians' and devices') last refreshed before ``before``."""
    stale = await _deleted(session, delete(PushToken).where(PushToken.refreshed_at < before))
    return stale + await _deleted(
        session, delete(DevicePushToken).where(DevicePushToken.refreshed_at < before)
    )


async def _deleted(session: AsyncSession, statement: Any) -> int:
    result: Any = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)
