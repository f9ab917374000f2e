"""Staff accounts (curators and admins) and their sign-in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from parental.admin import repository, totp
from parental.admin.errors import (
    InvalidSecondFactor,
    InvalidStaffCredentials,
    InvalidStaffToken,
    SecondFactorNotEnrolled,
    SecondFactorRequired,
    StaffAccountExists,
    StaffNotFound,
    StaffSignInLocked,
)
from parental.admin.models import StaffAccount
from parental.audit import service as audit
from parental.auth.lockout import LockoutPolicy, Lockouts
from parental.kit.ratelimit import Rule
from parental.kit.security import (
    InvalidTokenError,
    decode_jwt,
    encode_jwt,
    hash_password,
    verify_password,
)
from parental.runtime import Runtime

STAFF_AUDIENCE = "parental:staff"
STAFF_TOKEN_TTL = timedelta(hours=8)
MIN_PASSWORD_LENGTH = 12

# Verified against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = hash_password("not-a-real-password-for-timing")


async def create_staff(
    session: AsyncSession, *, username: str, password: str, role: str, now: datetime
) -> StaffAccount:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if await repository.by_username(session, username) is not None:
        raise StaffAccountExists()
    staff = StaffAccount(
        username=username, password_hash=hash_password(password), role=role, created_at=now
    )
    await repository.add(session, staff)
    await audit.record(
        session,
        at=now,
        action="staff.created",
        actor=audit.Actor("system"),
        subject_type="staff",
        subject_id=staff.id,
        details={"role": role},
    )
    return staff


# Wrong passwords or codes for one account before its sign-ins are refused for a while (the
# lockout grows from the service's lockout settings): below the per-address limit, so that
# guessing from many addresses at one account is slowed down too.
STAFF_LOCKOUT_FAILURES = 5


def _lockout(runtime: Runtime) -> LockoutPolicy:
    return LockoutPolicy.of(
        runtime.settings, "staff-sign-in:user", STAFF_LOCKOUT_FAILURES, StaffSignInLocked
    )


async def check_credentials(
    session: AsyncSession,
    runtime: Runtime,
    *,
    username: str,
    password: str,
    code: str | None,
    ip: str,
    second_factor_required: bool = False,
) -> StaffAccount:
    """The account whose password (and, once enrolled, one-time code) these are.

    Limited per address (failing closed) and locked out per account after
    ``STAFF_LOCKOUT_FAILURES`` failures. An accepted code is spent: the same code, or an older
    one, is refused afterwards even within its 90 seconds. ``second_factor_required`` (the
    console) refuses accounts that have not enrolled one.
    """
    # Fails closed: a password guessed per process while Redis is down is a guess too many.
    await runtime.limiter.hit(
        Rule("staff-login:ip", runtime.settings.limit_admin_logins_per_ip, fail_closed=True), ip
    )
    now = runtime.clock.now()
    policy = _lockout(runtime)
    lockouts = Lockouts(runtime.limiter.state, secret=runtime.secret)
    await lockouts.attempt(policy, username, now=now)
    staff = await repository.by_username(session, username)
    if staff is None:
        verify_password(_DUMMY_HASH, password)
        raise InvalidStaffCredentials()
    if not verify_password(staff.password_hash, password) or staff.disabled_at is not None:
        raise InvalidStaffCredentials()
    if staff.totp_secret is None:
        if second_factor_required:
            raise SecondFactorNotEnrolled()
    else:
        if not code:
            raise SecondFactorRequired()
        secret = totp.unseal(
            staff.totp_secret, service_secret=runtime.secret, staff_id=str(staff.id)
        )
        step = totp.matching_step(secret, code, now)
        if step is None or not await repository.spend_totp_step(session, staff.id, step):
            raise InvalidSecondFactor()
    await lockouts.succeeded(policy, username, now=now, forget=True)
    return staff


async def sign_in(
    session: AsyncSession,
    runtime: Runtime,
    *,
    username: str,
    password: str,
    ip: str,
    code: str | None = None,
) -> str:
    """A staff access token (JWT) for the right password and, once enrolled, one-time code."""
    staff = await check_credentials(
        session, runtime, username=username, password=password, code=code, ip=ip
    )
    now = runtime.clock.now()
    await audit.record(
        session,
        at=now,
        action="staff.sign_in",
        actor=audit.Actor("staff", str(staff.id)),
        subject_type="staff",
        subject_id=staff.id,
        ip=ip,
        details={"second_factor": staff.totp_secret is not None},
    )
    return encode_jwt(
        secret=runtime.secret,
        subject=str(staff.id),
        audience=STAFF_AUDIENCE,
        issued_at=now,
        ttl=STAFF_TOKEN_TTL,
        extra={"role": staff.role},
    )


async def enrol_second_factor(
    session: AsyncSession, *, username: str, service_secret: str, now: datetime
) -> str:
    """Give the account a new one-time-code secret (replacing any); returns the
    ``otpauth://`` URI, the only time the secret leaves the service."""
    staff = await repository.by_username(session, username)
    if staff is None:
        raise StaffNotFound()
    secret = totp.new_secret()
    staff.totp_secret = totp.seal(secret, service_secret=service_secret, staff_id=str(staff.id))
    staff.totp_enrolled_at = now
    staff.totp_last_step = None
    await audit.record(
        session,
        at=now,
        action="staff.second_factor_enrolled",
        actor=audit.Actor("system"),
        subject_type="staff",
        subject_id=staff.id,
    )
    return totp.provisioning_uri(secret, staff.username)


async def authenticate(session: AsyncSession, runtime: Runtime, token: str) -> StaffAccount:
    staff, _ = await authenticate_until(session, runtime, token)
    return staff


async def authenticate_until(
    session: AsyncSession, runtime: Runtime, token: str
) -> tuple[StaffAccount, datetime]:
    """The staff member of a token, and when the token expires."""
    try:
        claims = decode_jwt(
            token, secret=runtime.secret, audience=STAFF_AUDIENCE, now=runtime.clock.now()
        )
        staff_id = uuid.UUID(str(claims["sub"]))
        expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (InvalidTokenError, ValueError, KeyError, TypeError, OverflowError) as exc:
        raise InvalidStaffToken() from exc
    staff = await repository.get(session, staff_id)
    if staff is None or staff.disabled_at is not None:
        raise InvalidStaffToken()
    return staff, expires
