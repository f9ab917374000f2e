"""Staff accounts (curators and admins) and their sign-in."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from parental.admin import repository
from parental.admin.errors import InvalidStaffCredentials, InvalidStaffToken, StaffAccountExists
from parental.admin.models import StaffAccount
from parental.audit import service as audit
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


async def sign_in(
    session: AsyncSession, runtime: Runtime, *, username: str, password: str, ip: str
) -> str:
    # Fails closed: a password guessed per process while Redis is down is a guess too many.
    await runtime.limiter.hit(
        Rule("staff-login:ip", runtime.settings.limit_admin_logins_per_ip, fail_closed=True), ip
    )
    staff = await repository.by_username(session, username)
    if staff is None:
        verify_password(_DUMMY_HASH, password)
        raise InvalidStaffCredentials()
    if not verify_password(staff.password_hash, password) or staff.disabled_at is not None:
        raise InvalidStaffCredentials()
    now = runtime.clock.now()
    await audit.record(
        session,
        at=now,
        action="staff.sign_in",
        actor=audit.Actor("staff", str(staff.id)),
        subject_type="staff",
        subject_id=staff.id,
        ip=ip,
    )
    return encode_jwt(
        secret=runtime.secret,
        subject=str(staff.id),
        audience=STAFF_AUDIENCE,
        issued_at=now,
        ttl=STAFF_TOKEN_TTL,
        extra={"role": staff.role},
    )


async def authenticate(session: AsyncSession, runtime: Runtime, token: str) -> StaffAccount:
    try:
        claims = decode_jwt(
            token, secret=runtime.secret, audience=STAFF_AUDIENCE, now=runtime.clock.now()
        )
        staff_id = uuid.UUID(str(claims["sub"]))
    except (InvalidTokenError, ValueError) as exc:
        raise InvalidStaffToken() from exc
    staff = await repository.get(session, staff_id)
    if staff is None or staff.disabled_at is not None:
        raise InvalidStaffToken()
    return staff
