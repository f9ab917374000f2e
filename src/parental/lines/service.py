"""The carrier's line register: which MSISDNs are child SIMs, under whose contract."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from parental.audit import service as audit
from parental.kit.phone import InvalidPhoneNumber, normalize_e164
from parental.kit.security import keyed_hash, new_token
from parental.lines import bindings, repository
from parental.lines.errors import (
    InvalidMsisdn,
    InvalidServiceKey,
    LineNotFound,
    ServiceKeyExists,
)
from parental.lines.models import Line, ServiceKey


def carrier_msisdn(raw: str, regions: list[str]) -> str:
    """A line number of the carrier in E.164; the leading + may be left out in a URL."""
    text = raw.strip()
    if not text.startswith("+"):
        text = "+" + text
    try:
        return normalize_e164(text, regions=regions)
    except InvalidPhoneNumber as exc:
        raise InvalidMsisdn(f"{InvalidMsisdn.message} ({exc})") from exc


async def register_line(
    session: AsyncSession,
    *,
    msisdn: str,
    guardian_phone: str,
    is_child_sim: bool,
    active: bool,
    now: datetime,
    actor: audit.Actor,
) -> tuple[Line, bool]:
    """Create or update the carrier's record of a line; returns (line, created)."""
    line = await repository.get_line_by_msisdn(session, msisdn)
    created = line is None
    if line is None:
        line = Line(
            msisdn=msisdn,
            guardian_phone=guardian_phone,
            is_child_sim=is_child_sim,
            active=active,
            registered_at=now,
            updated_at=now,
        )
        await repository.add(session, line)
    else:
        line.guardian_phone = guardian_phone
        line.is_child_sim = is_child_sim
        line.active = active
        line.updated_at = now
        if not (active and is_child_sim):
            await bindings.end_line_bindings(session, line, now)
    await audit.record(
        session,
        at=now,
        action="line.registered" if created else "line.updated",
        actor=actor,
        subject_type="line",
        subject_id=line.id,
        details={"is_child_sim": is_child_sim, "active": active},
    )
    return line, created


async def get_line(session: AsyncSession, msisdn: str) -> Line:
    line = await repository.get_line_by_msisdn(session, msisdn)
    if line is None:
        raise LineNotFound()
    return line


async def deactivate_line(
    session: AsyncSession, *, msisdn: str, now: datetime, actor: audit.Actor
) -> Line:
    """The contract ended or the SIM was ported out: monitoring on it stops."""
    line = await get_line(session, msisdn)
    line.active = False
    line.updated_at = now
    await bindings.end_line_bindings(session, line, now)
    await audit.record(
        session,
        at=now,
        action="line.deactivated",
        actor=actor,
        subject_type="line",
        subject_id=line.id,
    )
    return line


async def create_service_key(
    session: AsyncSession, *, name: str, secret: str, now: datetime
) -> str:
    """Create a key for a carrier system; the plain key is returned once and never stored."""
    if await repository.get_service_key_by_name(session, name) is not None:
        raise ServiceKeyExists()
    key = new_token("sk")
    await repository.add(
        session, ServiceKey(name=name, key_hash=keyed_hash(secret, key), created_at=now)
    )
    return key


async def authenticate_service_key(session: AsyncSession, *, key: str, secret: str) -> ServiceKey:
    row = await repository.get_service_key(session, keyed_hash(secret, key))
    if row is None or row.revoked_at is not None:
        raise InvalidServiceKey()
    return row


async def revoke_service_key(session: AsyncSession, *, name: str, now: datetime) -> bool:
    row = await repository.get_service_key_by_name(session, name)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True
