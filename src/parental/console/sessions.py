"""Console sessions: a random token in an HttpOnly, SameSite=Strict cookie, kept server-side
only as a keyed hash, with an idle and an absolute expiry; and the session's CSRF token.

The CSRF token is derived from the session token (a keyed hash of it), so every session has
its own synchroniser token without storing one, and it changes with each sign-in.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.admin.models import ConsoleSession, StaffAccount
from parental.kit.security import keyed_hash, new_token

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=10)  # a working day; then the password and code again
# last_seen_at is written at most this often: a page view need not be a database write.
_TOUCH_EVERY = timedelta(minutes=1)

# The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only and
# for the whole site; it needs TLS, so plain-HTTP development and tests use the other name.
COOKIE_TLS = "__Host-console"
COOKIE_PLAIN = "console_session"


def cookie_name(behind_tls: bool) -> str:
    return COOKIE_TLS if behind_tls else COOKIE_PLAIN


def _token_hash(secret: str, token: str) -> str:
    return keyed_hash(secret, f"console-session:{token}")


def csrf_token(secret: str, token: str) -> str:
    """The session's synchroniser token, put in every form and checked on every POST."""
    return keyed_hash(secret, f"console-csrf:{token}")


def csrf_matches(secret: str, token: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(csrf_token(secret, token), submitted)


@dataclass(frozen=True)
class Signed:
    """A live console session and whose it is."""

    staff: StaffAccount
    token: str
    csrf: str


async def open_session(
    session: AsyncSession, *, staff: StaffAccount, secret: str, now: datetime
) -> str:
    """A new session for ``staff``; returns the token for the cookie (the only copy)."""
    token = new_token("cs")
    session.add(
        ConsoleSession(
            token_hash=_token_hash(secret, token),
            staff_id=staff.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_TIMEOUT,
        )
    )
    await session.flush()
    return token


async def resolve(
    session: AsyncSession, *, token: str | None, secret: str, now: datetime
) -> Signed | None:
    """The live session of ``token``, touched; None when unknown, expired or disabled (an
    expired one is deleted)."""
    if not token or len(token) > 128:
        return None
    row = await session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == _token_hash(secret, token))
    )
    if row is None:
        return None
    staff = await session.get(StaffAccount, row.staff_id)
    if (
        staff is None
        or staff.disabled_at is not None
        or now >= row.expires_at
        or now - row.last_seen_at >= IDLE_TIMEOUT
    ):
        await session.delete(row)
        await session.flush()
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    return Signed(staff=staff, token=token, csrf=csrf_token(secret, token))


async def close_session(session: AsyncSession, *, token: str, secret: str) -> None:
    await session.execute(
        delete(ConsoleSession).where(ConsoleSession.token_hash == _token_hash(secret, token))
    )


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete the sessions past their absolute or idle expiry; returns how many."""
    result = await session.execute(
        delete(ConsoleSession).where(
            (ConsoleSession.expires_at <= now) | (ConsoleSession.last_seen_at <= now - IDLE_TIMEOUT)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
