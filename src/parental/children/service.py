"""Children: adding one on a registered child SIM, reading, renaming, removing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from parental.audit import service as audit
from parental.auth.models import Account
from parental.children import erasure, repository
from parental.children.errors import (
    ChildNotFound,
    InvalidBirthdate,
    LineNotRegistered,
    LineTaken,
    MonitoringEndedAdult,
    MonitoringInactive,
    NotAMinor,
    UnknownTimezone,
)
from parental.children.models import Child
from parental.children.monitoring import ADULT, Monitoring, local_today, monitoring_status
from parental.children.schemas import ChildRead, MonitoringRead
from parental.consent import service as consent
from parental.consent.models import Purpose
from parental.families import service as families
from parental.lines import repository as lines
from parental.lines.models import Line


def valid_timezone(name: str) -> str:
    if name not in available_timezones():
        raise UnknownTimezone()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimezone() from exc
    return name


async def add_child(
    session: AsyncSession,
    *,
    account: Account,
    name: str,
    birthdate: date,
    msisdn: str,
    timezone: str,
    now: datetime,
    ip: str | None = None,
    consents: Sequence[Purpose] = (),
    consent_text_version: str | None = None,
) -> tuple[Child, Line]:
    """Add a child on a line the carrier registered as a child SIM under the caller's contract,
    with the guardian's ``consents`` to the text ``consent_text_version`` (checked)."""
    membership = await families.require_family_of(session, account)
    timezone = valid_timezone(timezone)
    today = local_today(now, timezone)
    if birthdate > today:
        raise InvalidBirthdate()
    line = await lines.get_line_by_msisdn(session, msisdn)
    if (
        line is None
        or not line.active
        or not line.is_child_sim
        or line.guardian_phone != account.phone
    ):
        raise LineNotRegistered()
    if await repository.by_line(session, line.id) is not None:
        raise LineTaken()
    status = monitoring_status(
        birthdate=birthdate,
        timezone=timezone,
        now=now,
        line_active=line.active,
        line_is_child_sim=line.is_child_sim,
        line_guardian_phone=line.guardian_phone,
        guardian_phones=[account.phone],
    )
    if ADULT in status.reasons:
        raise NotAMinor()
    child = Child(
        family_id=membership.family_id,
        line_id=line.id,
        name=name,
        birthdate=birthdate,
        timezone=timezone,
        created_at=now,
        updated_at=now,
    )
    await repository.add(session, child)
    given = await consent.record_at_creation(
        session,
        child=child,
        account_id=account.id,
        purposes=consents,
        text_version=consent_text_version,
        now=now,
    )
    await audit.record(
        session,
        at=now,
        action="child.added",
        actor=audit.Actor("guardian", str(account.id)),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="child",
        subject_id=child.id,
        child_visible=True,
        ip=ip,
        details=given,
    )
    return child, line


async def guardian_child(session: AsyncSession, account: Account, child_id: uuid.UUID) -> Child:
    """The child ``child_id`` if ``account`` is a guardian in the child's family; 404 otherwise."""
    child = await repository.get(session, child_id)
    membership = await families.family_of(session, account)
    if child is None or membership is None or child.family_id != membership.family_id:
        raise ChildNotFound()
    return child


def require_monitoring(status: Monitoring) -> None:
    """Refuse unless ``status`` is active: ``MonitoringEndedAdult`` (410) once the child is 18,
    whatever else is wrong (that is final), ``MonitoringInactive`` (403) for the line's
    reasons (the carrier or the family can set those right). Every check of the monitored
    data's readers and writers comes here."""
    if status.active:
        return
    if ADULT in status.reasons:
        raise MonitoringEndedAdult()
    raise MonitoringInactive()


async def monitoring_of(session: AsyncSession, child: Child, now: datetime) -> Monitoring:
    """Whether monitoring applies to ``child`` right now (age, line, contract holder)."""
    line = await lines.get_line(session, child.line_id)
    assert line is not None  # children.line_id is a foreign key
    return monitoring_status(
        birthdate=child.birthdate,
        timezone=child.timezone,
        now=now,
        line_active=line.active,
        line_is_child_sim=line.is_child_sim,
        line_guardian_phone=line.guardian_phone,
        guardian_phones=await families.guardian_phones(session, child.family_id),
    )


async def describe(session: AsyncSession, child: Child, now: datetime) -> ChildRead:
    line = await lines.get_line(session, child.line_id)
    assert line is not None
    status = await monitoring_of(session, child, now)
    return _read(child, line, status)


async def list_children(session: AsyncSession, account: Account, now: datetime) -> list[ChildRead]:
    membership = await families.family_of(session, account)
    if membership is None:
        return []
    phones = await families.guardian_phones(session, membership.family_id)
    out = []
    for child, line in await repository.list_with_lines(session, membership.family_id):
        status = monitoring_status(
            birthdate=child.birthdate,
            timezone=child.timezone,
            now=now,
            line_active=line.active,
            line_is_child_sim=line.is_child_sim,
            line_guardian_phone=line.guardian_phone,
            guardian_phones=phones,
        )
        out.append(_read(child, line, status))
    return out


async def update_child(
    session: AsyncSession, child: Child, *, name: str | None, timezone: str | None, now: datetime
) -> Child:
    if name is not None:
        child.name = name
    if timezone is not None:
        child.timezone = valid_timezone(timezone)
    child.updated_at = now
    return child


async def remove_child(
    session: AsyncSession, *, child: Child, account: Account, now: datetime, ip: str | None = None
) -> None:
    """Remove a child and, with it, the child's devices, pairing codes and filter data (see
    ``erasure``); the audit row says how many rows of each kind went."""
    erased = await erasure.erase_child_data(session, child)
    await audit.record(
        session,
        at=now,
        action="child.removed",
        actor=audit.Actor("guardian", str(account.id)),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="child",
        subject_id=child.id,
        ip=ip,
        details={"erased": erased},
    )
    await repository.delete(session, child)


def _read(child: Child, line: Line, status: Monitoring) -> ChildRead:
    return ChildRead(
        id=child.id,
        family_id=child.family_id,
        name=child.name,
        birthdate=child.birthdate,
        timezone=child.timezone,
        msisdn=line.msisdn,
        created_at=child.created_at,
        stepped_down_at=child.stepped_down_at,
        adult_data_erased_at=child.adult_data_erased_at,
        monitoring=MonitoringRead(
            active=status.active, ends_on=status.ends_on, reasons=status.reasons
        ),
    )


async def monitored_child(session: AsyncSession, child_id: uuid.UUID, now: datetime) -> Child:
    """The child of a calling device (whose ``child_id`` is a foreign key with cascade), if
    monitoring applies to the child now (``require_monitoring`` refuses otherwise)."""
    return (await monitored(session, child_id, now))[0]


async def monitored(
    session: AsyncSession, child_id: uuid.UUID, now: datetime
) -> tuple[Child, Monitoring]:
    """``monitored_child``, with the monitoring that applies."""
    child = await repository.get(session, child_id)
    assert child is not None
    status = await monitoring_of(session, child, now)
    require_monitoring(status)
    return child, status


async def monitored_read(
    session: AsyncSession,
    child: Child,
    account: Account,
    *,
    now: datetime,
    action: str,
    ip: str,
    details: dict[str, Any],
) -> None:
    """Before a guardian reads the child's monitored data (filter activity, locations, alarms):
    refuse unless monitoring applies to the child now (``require_monitoring``), and write the
    audit row the child's device shows ("your parent checked ...")."""
    require_monitoring(await monitoring_of(session, child, now))
    await audit.record(
        session,
        at=now,
        action=action,
        actor=audit.Actor("guardian", str(account.id)),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="child",
        subject_id=child.id,
        child_visible=True,
        ip=ip,
        details=details,
    )
