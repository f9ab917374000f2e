"""What a guardian may ask of a child's device, checked before a command is stored: the
child's quota per kind (a moving window over the stored commands, counted under a lock on the
child's row) and, for a listening session, the carrier's age bands, how long ago the guardian
joined the family and the carrier's longest session."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from limits import parse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.categories.catalog import age_band
from parental.age_policy.policy import AgePolicy
from parental.children.models import Child
from parental.children.monitoring import local_today
from parental.commands.errors import (
    CommandOverQuota,
    GuardianTooNew,
    ListenNotForThisAge,
    ListenTooLong,
)
from parental.commands.models import DeviceCommand
from parental.commands.schemas import CommandKind
from parental.families.models import Guardian
from parental.settings import ParentalSettings


def quota_of(settings: ParentalSettings, kind: CommandKind) -> str:
    quota: str = getattr(settings, f"command_quota_{kind.value}")
    return quota


async def check_quota(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    kind: CommandKind,
    rule: str,
    now: datetime,
) -> None:
    """``CommandOverQuota`` (with when the oldest counted command leaves the window) if the
    child had ``rule``'s amount of ``kind`` within its window already."""
    item = parse(rule)
    window = timedelta(seconds=item.get_expiry())
    since = now - window
    recent = (
        select(DeviceCommand.created_at)
        .where(
            DeviceCommand.child_id == child_id,
            DeviceCommand.kind == kind.value,
            DeviceCommand.created_at > since,
        )
        .order_by(DeviceCommand.created_at.desc())
        .limit(item.amount)
    )
    times = list((await session.scalars(recent)).all())
    if len(times) < item.amount:
        return
    frees_at = min(times) + window
    raise CommandOverQuota(
        f"At most {item.amount} {kind.value} commands per {_window_text(window)} for a child; "
        "nothing was sent.",
        retry_after=max(1, int((frees_at - now).total_seconds()) + 1),
    )


def _window_text(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"


def check_listen(
    settings: ParentalSettings,
    policy: AgePolicy,
    *,
    child: Child,
    membership: Guardian,
    requested: int | None,
    now: datetime,
) -> int:
    """The seconds a listening session may record, or why the guardian may not start one
    (the age bands are the carrier's age policy's)."""
    today: date = local_today(now, child.timezone)
    if not policy.listens_to(age_band(child.birthdate, today)):
        raise ListenNotForThisAge()
    joined_for = now - membership.joined_at
    if joined_for < timedelta(hours=settings.command_listen_guardian_min_hours):
        allowed_at = membership.joined_at + timedelta(
            hours=settings.command_listen_guardian_min_hours
        )
        raise GuardianTooNew(
            "A guardian who joined the family less than "
            f"{settings.command_listen_guardian_min_hours} hours ago cannot start a listening "
            f"session; possible from {allowed_at.isoformat()}."
        )
    limit = settings.command_listen_max_seconds
    if requested is not None and requested > limit:
        raise ListenTooLong(f"A listening session records at most {limit} seconds.")
    return requested or limit


async def lock_child(session: AsyncSession, child_id: uuid.UUID) -> None:
    """Serialise commands for one child (on PostgreSQL: the quota is counted under the lock;
    SQLite runs one writer at a time anyway)."""
    await session.execute(select(Child.id).where(Child.id == child_id).with_for_update())
