"""Signing parents in: one-time codes by SMS, access JWTs and rotating refresh tokens."""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from parental import i18n
from parental.audit import service as audit
from parental.auth import repository
from parental.auth.errors import (
    InvalidAccessToken,
    InvalidRefreshToken,
    InvalidSignInCode,
    RefreshTokenReused,
    SignInLocked,
    SmsBudgetExhausted,
)
from parental.auth.lockout import LockoutPolicy, Lockouts
from parental.auth.models import Account, RefreshToken, SignInCode
from parental.kit.errors import TooManyRequests
from parental.kit.ratelimit import Rule
from parental.kit.security import (
    InvalidTokenError,
    decode_jwt,
    encode_jwt,
    keyed_hash,
    new_numeric_code,
    new_token,
)
from parental.runtime import Runtime

GUARDIAN_AUDIENCE = "parental:guardian"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedTokens:
    account: Account
    access_token: str
    refresh_token: str
    expires_in: int


async def request_sign_in_code(
    session: AsyncSession, runtime: Runtime, *, phone: str, locale: i18n.Locale, ip: str
) -> SignInCode:
    """Create a code for ``phone`` and send it by SMS; earlier open codes stop working."""
    s = runtime.settings
    # Sign-in limits fail closed (503 while Redis is down): counted per process they would let
    # every process send its own share of texts and take its own share of guesses.
    limit = runtime.limiter.hit
    await limit(Rule("code-request:ip", s.limit_code_requests_per_ip, fail_closed=True), ip)
    await limit(
        Rule("code-request:phone", s.limit_code_requests_per_phone, fail_closed=True), phone
    )
    await limit(
        Rule("code-request:phone:day", s.limit_code_requests_per_phone_daily, fail_closed=True),
        phone,
    )
    # Counted last, so requests the per-caller limits refuse do not spend the shared budget.
    try:
        await limit(
            Rule("code-request:all:day", f"{s.sms_daily_budget}/day", fail_closed=True), "all"
        )
    except TooManyRequests as exc:
        log.error("the daily sign-in SMS budget (%d) is spent; codes refused", s.sms_daily_budget)
        raise SmsBudgetExhausted(retry_after=exc.retry_after) from exc
    now = runtime.clock.now()
    code = new_numeric_code(s.sign_in_code_digits)
    await repository.close_open_codes(session, phone, now)
    row = SignInCode(
        phone=phone,
        code_hash=keyed_hash(runtime.secret, f"sign-in:{phone}:{code}"),
        created_at=now,
        expires_at=now + timedelta(seconds=s.sign_in_code_ttl_seconds),
        attempts=0,
    )
    await repository.add(session, row)
    minutes = max(1, s.sign_in_code_ttl_seconds // 60)
    await runtime.sms.send(phone, i18n.text("sms.sign_in_code", locale, code=code, minutes=minutes))
    return row


async def sign_in_with_code(
    session: AsyncSession,
    runtime: Runtime,
    *,
    phone: str,
    code: str,
    locale: i18n.Locale,
    ip: str,
) -> IssuedTokens:
    """Exchange a correct code for tokens; the account is created on its first sign-in."""
    s = runtime.settings
    limit = runtime.limiter.hit
    await limit(Rule("code-attempt:ip", s.limit_code_attempts_per_ip, fail_closed=True), ip)
    await limit(
        Rule("code-attempt:phone", s.limit_code_attempts_per_phone, fail_closed=True), phone
    )
    now = runtime.clock.now()
    by_ip, by_phone = _sign_in_lockouts(runtime)
    lockouts = Lockouts(runtime.limiter.state, secret=runtime.secret)
    # The address first: a caller locked out there adds nothing to the phone's count.
    await lockouts.attempt(by_ip, ip, now=now)
    await lockouts.attempt(by_phone, phone, now=now)
    await _redeem_code(session, runtime, phone=phone, code=code, now=now)
    await lockouts.succeeded(by_phone, phone, now=now, forget=True)
    await lockouts.succeeded(by_ip, ip, now=now, forget=False)

    account = await repository.get_account_by_phone(session, phone)
    if account is None:
        account = Account(phone=phone, locale=locale, created_at=now)
        await repository.add(session, account)
    account.last_sign_in_at = now
    tokens = await _issue(session, runtime, account, chain_id=uuid.uuid4())
    await audit.record(
        session,
        at=now,
        action="auth.sign_in",
        actor=audit.Actor("guardian", str(account.id)),
        subject_type="account",
        subject_id=account.id,
        ip=ip,
    )
    return tokens


def _sign_in_lockouts(runtime: Runtime) -> tuple[LockoutPolicy, LockoutPolicy]:
    """The lockouts of sign-in codes: per address and per phone."""
    s = runtime.settings
    return (
        LockoutPolicy.of(s, "sign-in:ip", s.sign_in_lockout_failures_per_ip, SignInLocked),
        LockoutPolicy.of(s, "sign-in:phone", s.sign_in_lockout_failures_per_phone, SignInLocked),
    )


async def _redeem_code(
    session: AsyncSession, runtime: Runtime, *, phone: str, code: str, now: datetime
) -> None:
    """Use the phone's open code if ``code`` is it; every try, right or wrong, is counted."""
    max_attempts = runtime.settings.sign_in_code_max_attempts
    row = await repository.latest_open_code(session, phone, now)
    # Counted atomically before comparing, so parallel guesses cannot share one count.
    if row is None or not await repository.take_attempt(session, row.id, max_attempts):
        raise InvalidSignInCode()
    expected = keyed_hash(runtime.secret, f"sign-in:{phone}:{code}")
    if not hmac.compare_digest(expected, row.code_hash):
        await repository.close_spent_code(session, row.id, max_attempts, now)
        raise InvalidSignInCode()
    if not await repository.consume_code(session, row.id, now):
        raise InvalidSignInCode()


async def refresh(
    session: AsyncSession, runtime: Runtime, *, refresh_token: str, ip: str
) -> IssuedTokens:
    """Rotate a refresh token. Presenting one already used revokes its whole chain."""
    now = runtime.clock.now()
    row = await repository.get_refresh_token(session, keyed_hash(runtime.secret, refresh_token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise InvalidRefreshToken()
    if row.used_at is not None or not await repository.mark_refresh_token_used(
        session, row.id, now
    ):
        await repository.revoke_chain(session, row.chain_id, now)
        await audit.record(
            session,
            at=now,
            action="auth.refresh_token_reused",
            actor=audit.Actor("guardian", str(row.account_id)),
            subject_type="account",
            subject_id=row.account_id,
            ip=ip,
        )
        raise RefreshTokenReused()
    account = await repository.get_account(session, row.account_id)
    if account is None:
        raise InvalidRefreshToken()
    return await _issue(session, runtime, account, chain_id=row.chain_id)


async def revoke(session: AsyncSession, runtime: Runtime, *, refresh_token: str) -> None:
    """Sign out: revoke the chain the token belongs to. Unknown tokens are ignored."""
    row = await repository.get_refresh_token(session, keyed_hash(runtime.secret, refresh_token))
    if row is not None:
        await repository.revoke_chain(session, row.chain_id, runtime.clock.now())


async def authenticate(session: AsyncSession, runtime: Runtime, access_token: str) -> Account:
    """The account an access token belongs to."""
    try:
        claims = decode_jwt(
            access_token, secret=runtime.secret, audience=GUARDIAN_AUDIENCE, now=runtime.clock.now()
        )
        account_id = uuid.UUID(str(claims["sub"]))
    except (InvalidTokenError, ValueError) as exc:
        raise InvalidAccessToken() from exc
    account = await repository.get_account(session, account_id)
    if account is None:
        raise InvalidAccessToken()
    return account


def access_token_expiry(runtime: Runtime, access_token: str) -> datetime:
    """When an access token (already authenticated) stops being valid."""
    claims = decode_jwt(
        access_token, secret=runtime.secret, audience=GUARDIAN_AUDIENCE, now=runtime.clock.now()
    )
    return datetime.fromtimestamp(claims["exp"], tz=UTC)


def issue_access_token(runtime: Runtime, account: Account) -> str:
    return encode_jwt(
        secret=runtime.secret,
        subject=str(account.id),
        audience=GUARDIAN_AUDIENCE,
        issued_at=runtime.clock.now(),
        ttl=timedelta(seconds=runtime.settings.access_token_ttl_seconds),
    )


async def _issue(
    session: AsyncSession, runtime: Runtime, account: Account, *, chain_id: uuid.UUID
) -> IssuedTokens:
    now = runtime.clock.now()
    refresh_token = new_token("rt")
    await repository.add(
        session,
        RefreshToken(
            account_id=account.id,
            chain_id=chain_id,
            token_hash=keyed_hash(runtime.secret, refresh_token),
            created_at=now,
            expires_at=now + timedelta(days=runtime.settings.refresh_token_ttl_days),
        ),
    )
    return IssuedTokens(
        account=account,
        access_token=issue_access_token(runtime, account),
        refresh_token=refresh_token,
        expires_in=runtime.settings.access_token_ttl_seconds,
    )
