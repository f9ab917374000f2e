"""Wiring screen-time usage into the API: who may upload a child's sessions (the child's paired
device) and who may read them (the child's guardians), and the audit rows the child's device
shows.

Monitoring rules apply to both ends, as for locations: a device of a child no longer monitored
(18, or the line is not an active child SIM under a guardian's contract) stores nothing (403
``MonitoringInactive``), and guardians read nothing of that child (403). Every read a guardian
makes leaves a ``usage.viewed`` audit row the child's device shows.

An upload that uses up one of today's limits is answered with ``sync_policy`` and, if the
guardians want it, publishes ``ScreenTimeLimitReached`` once stored
(``telemetry.usage.reports.limit_watch``). The worker runs ``send_weekly_summaries`` each
round: once a child's local week has ended (Monday 00:00 in the child's zone), one
``WeeklyUsageSummary`` per child and week, marked under a unique key before it is published
so several workers send it once; a child monitoring no longer applies to, or added after the
week ended, gets none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.auth.errors import InvalidAccessToken
from parental.children import service as children
from parental.children.acting import ChildDevice, ChildGuardian, guardian_of_child
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.models import Child
from parental.consent import service as consent
from parental.consent.errors import ConsentRequired
from parental.consent.models import Purpose
from parental.deps import RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.kit.db import transaction
from parental.kit.errors import TooManyRequests
from parental.kit.events import Event
from parental.kit.ratelimit import Rule
from parental.notifications.notify import notify
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.usage.reports import notices
from telemetry.usage.reports import service as report_service
from telemetry.usage.reports.models import WeeklySummaryMark
from telemetry.usage.router import create_device_router, create_guardian_router
from telemetry.usage.service import Limits

SUMMARY_BATCH = 200


def usage_limits(settings: ParentalSettings) -> Limits:
    return Limits(
        max_future_skew=timedelta(seconds=settings.usage_max_future_skew_seconds),
        retention=timedelta(days=settings.usage_retention_days),
    )


@dataclass
class DeviceUploader(ChildDevice):
    """The ``Uploader`` of ``telemetry.usage.router``: the calling device of a monitored child."""

    @property
    def limits(self) -> Limits:
        return usage_limits(self.runtime.settings)

    async def announce(self, events: Sequence[Event]) -> None:
        await self.commit_and_tell(events)


async def device_uploader(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> DeviceUploader:
    """The calling device, within its upload rate (429), if monitoring applies to its child
    and the app-usage consent is in force (403 otherwise)."""
    rule = Rule("usage-upload:device", runtime.settings.limit_usage_uploads_per_device)
    await runtime.limiter.hit(rule, str(device.id))
    now = runtime.clock.now()
    child = await children.monitored_child(session, device.child_id, now)
    await consent.require(session, runtime.settings, child, Purpose.APP_USAGE, now)
    return DeviceUploader(session, runtime, child, device.id)


@dataclass
class GuardianViewer(ChildGuardian):
    """The ``Viewer``: a guardian of the child; ``viewed`` checks monitoring and audits."""


guardian_viewer = guardian_of_child(GuardianViewer)


def device_usage_router() -> APIRouter:
    return create_device_router(
        uploader=device_uploader,
        caller_errors=(InvalidDeviceToken, MonitoringInactive, ConsentRequired, TooManyRequests),
    )


def child_usage_router() -> APIRouter:
    return create_guardian_router(
        viewer=guardian_viewer,
        caller_errors=(InvalidAccessToken, ChildNotFound, MonitoringInactive),
    )


# --- the weekly summary -------------------------------------------------------------------


def last_week_start(now: datetime, zone: ZoneInfo) -> date:
    """The Monday of the last local week of ``zone`` that has ended at ``now``."""
    today = now.astimezone(zone).date()
    return today - timedelta(days=today.weekday() + report_service.WEEK)


async def _unmarked(
    session: AsyncSession, timezone: str, week_start: date, limit: int
) -> list[Child]:
    """Children in ``timezone`` whose week starting ``week_start`` is not marked yet."""
    marked = exists().where(
        WeeklySummaryMark.child_id == Child.id, WeeklySummaryMark.week_start == week_start
    )
    query = select(Child).where(Child.timezone == timezone, ~marked).order_by(Child.id).limit(limit)
    return list(await session.scalars(query))


async def _summarise(
    session: AsyncSession, child: Child, week_start: date, zone: ZoneInfo, now: datetime
) -> Event | None:
    """Mark the child's week; its summary if this mark is new and the child gets one."""
    ended = report_service.week_end(week_start, zone)
    wanted = child.created_at < ended and (await children.monitoring_of(session, child, now)).active
    mark = await notices.mark_week(session, child.id, week_start, sent=wanted, now=now)
    if mark is None or not wanted:
        return None
    return await report_service.weekly_summary(
        session, child.id, week_start=week_start, zone=zone, summary_id=mark
    )


async def send_weekly_summaries(runtime: Runtime) -> int:
    """Publish the summary of each child's last local week not dealt with yet (module doc),
    zone by zone, in batches that each commit before their events are published; how many
    were published."""
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        zones = sorted(set(await session.scalars(select(Child.timezone).distinct())))
    published = 0
    for timezone in zones:
        zone = ZoneInfo(timezone)
        week_start = last_week_start(now, zone)
        while True:
            events: list[Event] = []
            async with transaction(runtime.sessions) as session:
                due = await _unmarked(session, timezone, week_start, SUMMARY_BATCH)
                for child in due:
                    event = await _summarise(session, child, week_start, zone, now)
                    if event is not None:
                        events.append(event)
                await notify(session, runtime, events)
            for event in events:
                await runtime.bus.publish(event)
            published += len(events)
            if len(due) < SUMMARY_BATCH:
                break
    return published
