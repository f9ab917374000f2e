from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parental.auth.models import Account, RefreshToken, SignInCode


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def get_account_by_phone(session: AsyncSession, phone: str) -> Account | None:
    result: Account | None = await session.scalar(select(Account).where(Account.phone == phone))
    return result


async def add(session: AsyncSession, row: Account | SignInCode | RefreshToken) -> None:
    session.add(row)
    await session.flush()


async def latest_open_code(session: AsyncSession, phone: str, now: datetime) -> SignInCode | None:
    query = (
        select(SignInCode)
        .where(
            SignInCode.phone == phone,
            SignInCode.consumed_at.is_(None),
            SignInCode.expires_at > now,
        )
        .order_by(SignInCode.created_at.desc())
        .limit(1)
    )
    result: SignInCode | None = await session.scalar(query)
    return result


async def close_open_codes(session: AsyncSession, phone: str, now: datetime) -> None:
    """A new code replaces earlier ones, so only the code in the latest SMS works."""
    await session.execute(
        update(SignInCode)
        .where(SignInCode.phone == phone, SignInCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )


async def take_attempt(session: AsyncSession, code_id: uuid.UUID, max_attempts: int) -> bool:
    """Count one try at an open code before it is compared; false once its tries are spent.

    One UPDATE with the condition in it: concurrent tries each take their own (PostgreSQL
    re-reads the row after a concurrent writer commits), where reading, adding and writing
    back would let parallel guesses share one count.
    """
    result = await session.execute(
        update(SignInCode)
        .where(
            SignInCode.id == code_id,
            SignInCode.consumed_at.is_(None),
            SignInCode.attempts < max_attempts,
        )
        .values(attempts=SignInCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def close_spent_code(
    session: AsyncSession, code_id: uuid.UUID, max_attempts: int, now: datetime
) -> None:
    """Close a code whose tries are all spent: even the right code no longer works."""
    await session.execute(
        update(SignInCode)
        .where(
            SignInCode.id == code_id,
            SignInCode.consumed_at.is_(None),
            SignInCode.attempts >= max_attempts,
        )
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )


async def consume_code(session: AsyncSession, code_id: uuid.UUID, now: datetime) -> bool:
    """Mark a code used; false if another request used it first."""
    result = await session.execute(
        update(SignInCode)
        .where(SignInCode.id == code_id, SignInCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def get_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    result: RefreshToken | None = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    )
    return result


async def mark_refresh_token_used(
    session: AsyncSession, token_id: uuid.UUID, now: datetime
) -> bool:
    """Rotate atomically: only one request can use a refresh token."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def revoke_chain(session: AsyncSession, chain_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.chain_id == chain_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_account_tokens(
    session: AsyncSession, account_id: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def purge_expired(
    session: AsyncSession, *, codes_before: datetime, tokens_before: datetime
) -> int:
    """Delete sign-in codes and refresh tokens that can no longer be used."""
    codes = await session.execute(delete(SignInCode).where(SignInCode.expires_at < codes_before))
    tokens = await session.execute(
        delete(RefreshToken).where(
            or_(RefreshToken.expires_at < tokens_before, RefreshToken.revoked_at < tokens_before)
        )
    )
    return int(codes.rowcount + tokens.rowcount)  # type: ignore[attr-defined]
