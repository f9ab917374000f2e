"""Wiring alarms into the API, location ingestion and the worker: who may call what, the
monitoring rules, audit rows, and publishing each alarm once its transaction has committed.

- The child's device presses SOS and sends heartbeats (device token). An SOS is stored and
  published whatever the settings or monitoring rules say; the other alarms are raised only
  while monitoring applies to the child (under 18, on a child SIM of one of its guardians).
- Guardians of the child set its thresholds and read its alarms. An SOS carries where the child
  was, so every read leaves an audit row the child's device shows; changing the settings does
  too, as every other change a guardian makes to how the child is watched.
- The carrier reports the handset a line is in (service key); the IMEI is hashed at once.
- An alarm raised by a request is published once the request's work has committed, before the
  answer is sent.
- Fixes stored by ingestion are signs of life with battery readings (``fix_listener``), and the
  worker raises silences each round (``check_silent_devices``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from parental import check_in
from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import repository as children_repository
from parental.children import service as children
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.models import Child
from parental.commands import service as device_commands
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices import repository as devices
from parental.devices import service as device_service
from parental.devices.dependencies import CurrentDevice, DeviceCredentials
from parental.devices.errors import InvalidDeviceToken
from parental.kit.db import transaction
from parental.kit.errors import error_responses
from parental.kit.events import Event
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.lines import service as lines
from parental.lines.dependencies import CarrierKey
from parental.lines.errors import InvalidMsisdn, InvalidServiceKey, LineNotFound
from parental.notifications.notify import notify
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.alarms import handsets, liveness, service
from telemetry.alarms.errors import InvalidImei, ObservedInFuture
from telemetry.alarms.events import DeviceSilent
from telemetry.alarms.rules import AlarmDefaults, Alerts, rules_of
from telemetry.alarms.schemas import (
    AlarmCreated,
    AlarmKind,
    AlarmPage,
    AlarmSettingsRead,
    AlarmSettingsUpdate,
    DeviceStatusList,
    DeviceStatusRead,
    HandsetReport,
    HandsetResult,
    HeartbeatCreate,
    SosCreate,
)
from telemetry.locations.fix import Fix, FixListener

router = APIRouter(tags=["alarms"])
carrier_router = APIRouter(
    tags=["carrier"], responses=error_responses(InvalidServiceKey, InvalidMsisdn)
)

CHILD_ALARMS = "/children/{child_id}/alarms"
CHILD_SETTINGS = "/children/{child_id}/alarm-settings"
SILENCE_BATCH = 500


def alarm_defaults(settings: ParentalSettings) -> AlarmDefaults:
    return AlarmDefaults(
        battery_threshold_pct=settings.alarm_default_battery_threshold_pct,
        silent_after_minutes=settings.alarm_default_silent_after_minutes,
    )


async def _monitored(session: AsyncSession, child: Child | None, now: datetime) -> bool:
    return child is not None and (await children.monitoring_of(session, child, now)).active


def monitoring_alerts(session: AsyncSession, child_id: uuid.UUID, now: datetime) -> Alerts:
    """Whether monitoring applies to the child, looked up at most once and only if asked."""
    answer: list[bool] = []

    async def alerts() -> bool:
        if not answer:
            child = await children_repository.get(session, child_id)
            answer.append(await _monitored(session, child, now))
        return answer[0]

    return alerts


async def _nobody() -> bool:
    return False  # a line no child has been added on yet


async def _commit_and_publish(
    session: AsyncSession, runtime: Runtime, events: Sequence[Event]
) -> None:
    """Commit the request's work, then publish: an alarm goes out once stored and before the
    answer. (A background task would run only after the response was sent, and not at all if
    the device hung up first; the device's retry would then be a duplicate, never published.)"""
    if not events:
        return
    await notify(session, runtime, events)  # the guardians' push notifications, atomically
    await session.commit()
    for event in events:
        await runtime.bus.publish(event)


@router.post(
    "/device/alarms",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": AlarmCreated, "description": "Sent before: nothing new was stored"},
        **error_responses(InvalidDeviceToken),
    },
)
async def create_device_alarm(
    body: SosCreate,
    device: CurrentDevice,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> AlarmCreated:
    """Raise an SOS: the guardians are told at once. Safe to send again until answered."""
    alarm, event = await service.press_sos(
        session,
        child_id=device.child_id,
        device_id=device.id,
        body=body,
        now=runtime.clock.now(),
        defaults=alarm_defaults(runtime.settings),
    )
    if event is None:
        response.status_code = status.HTTP_200_OK
        return AlarmCreated(status="duplicate", alarm=service.alarm_read(alarm))
    await _commit_and_publish(session, runtime, [event])
    return AlarmCreated(status="stored", alarm=service.alarm_read(alarm))


@router.post("/device/heartbeat", responses=error_responses(InvalidDeviceToken))
async def create_heartbeat(
    body: HeartbeatCreate,
    credentials: DeviceCredentials,
    session: SessionDep,
    runtime: RuntimeDep,
) -> DeviceStatusRead:
    """Report that the device is alive, its battery and app version."""
    if credentials is None:
        raise InvalidDeviceToken()
    now = runtime.clock.now()
    token = credentials.credentials
    known = await check_in.read(session, runtime.secret, token, now)  # one statement
    if known is None:  # the device's first report (or no such device: 401)
        device = await device_service.authenticate(session, runtime, token)
    else:
        device = known.device
    row, events = await liveness.heartbeat(
        session,
        child_id=device.child_id,
        device_id=device.id,
        body=body,
        now=now,
        defaults=alarm_defaults(runtime.settings),
        alerts=monitoring_alerts(session, device.child_id, now),
        locked=None if known is None else (known.status, known.settings),
    )
    read = DeviceStatusRead.model_validate(row)
    # A heartbeat is a check-in: commands the device missed while offline go to it again.
    if known is None or known.commands_waiting:
        await device_commands.check_in(
            session, runtime.settings, child_id=device.child_id, device_id=device.id, now=now
        )
    await _commit_and_publish(session, runtime, events)
    return read


@router.get(CHILD_SETTINGS, responses=error_responses(InvalidAccessToken, ChildNotFound))
async def get_alarm_settings(
    child: OwnedChild, session: SessionDep, runtime: RuntimeDep
) -> AlarmSettingsRead:
    """The child's alarm thresholds and which alarms are on (SOS always is)."""
    rules = await rules_of(session, child.id, alarm_defaults(runtime.settings))
    return rules.read(child.id)


@router.put(
    CHILD_SETTINGS,
    responses=error_responses(InvalidAccessToken, ChildNotFound, MonitoringInactive),
)
async def update_alarm_settings(
    body: AlarmSettingsUpdate,
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> AlarmSettingsRead:
    """Set the battery threshold, the silence limit and which alarms are on. The child's
    device shows the change."""
    now = runtime.clock.now()
    await children.monitored_read(
        session,
        child,
        account,
        now=now,
        action="alarms.settings_updated",
        ip=ip,
        details=body.model_dump(),
    )
    rules = await service.update_settings(session, child.id, body, now=now)
    return rules.read(child.id)


@router.get(
    CHILD_ALARMS,
    responses=error_responses(InvalidAccessToken, ChildNotFound, MonitoringInactive, InvalidCursor),
)
async def list_alarms(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
    kind: Annotated[AlarmKind | None, Query(description="Only alarms of this kind")] = None,
) -> AlarmPage:
    """The child's alarms, newest first; an SOS shows where the child was. The child's device
    shows that the guardian looked."""
    await children.monitored_read(
        session,
        child,
        account,
        now=runtime.clock.now(),
        action="alarms.viewed",
        ip=ip,
        details={"kind": kind, "next_page": cursor is not None},
    )
    return await service.page(session, child.id, limit=limit, cursor=cursor, kind=kind)


@router.get(
    "/children/{child_id}/device-status",
    responses=error_responses(InvalidAccessToken, ChildNotFound, MonitoringInactive),
)
async def get_device_status(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> DeviceStatusList:
    """When each of the child's devices was last heard from, its battery and app version.
    The child's device shows that the guardian looked."""
    await children.monitored_read(
        session,
        child,
        account,
        now=runtime.clock.now(),
        action="devices.status_viewed",
        ip=ip,
        details={},
    )
    return await service.device_statuses(session, child.id)


@carrier_router.post(
    "/lines/{msisdn}/handset",
    responses=error_responses(LineNotFound, InvalidImei, ObservedInFuture),
)
async def register_line_handset(
    msisdn: str,
    body: HandsetReport,
    key: CarrierKey,
    session: SessionDep,
    runtime: RuntimeDep,
) -> HandsetResult:
    """Report the handset (IMEI) a line is in; another one than last time raises SIM moved
    for the line's child. Only a keyed hash of the IMEI is kept."""
    settings = runtime.settings
    number = lines.carrier_msisdn(msisdn, settings.carrier_regions)
    handset = handsets.handset_key(body.imei, secret=runtime.secret)
    now = runtime.clock.now()
    observed_at = body.observed_at or now
    if observed_at > now + timedelta(seconds=settings.alarm_clock_skew_seconds):
        raise ObservedInFuture()
    line = await lines.get_line(session, number)
    child = await children_repository.by_line(session, line.id)
    outcome, event = await handsets.report(
        session,
        line_id=line.id,
        child_id=child.id if child else None,
        handset=handset,
        observed_at=observed_at,
        now=now,
        defaults=alarm_defaults(settings),
        alerts=monitoring_alerts(session, child.id, now) if child else _nobody,
    )
    if outcome == "changed":
        await audit.record(
            session,
            at=now,
            action="line.handset_changed",
            actor=audit.Actor("carrier", key.name),
            family_id=child.family_id if child else None,
            child_id=child.id if child else None,
            subject_type="line",
            subject_id=line.id,
            details={"alarm": event is not None},
        )
    await _commit_and_publish(session, runtime, [event] if event else [])
    return HandsetResult(status=outcome)


@dataclass(frozen=True)
class AlarmListener:
    """For ingestion: new fixes are signs of life of their devices and battery readings."""

    runtime: Runtime

    async def __call__(
        self, session: AsyncSession, child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime
    ) -> Sequence[Event]:
        return await liveness.record_fixes(
            session,
            child_id=child_id,
            fixes=fixes,
            now=now,
            defaults=alarm_defaults(self.runtime.settings),
            alerts=monitoring_alerts(session, child_id, now),
        )

    async def prefetch(
        self, session: AsyncSession, uploads: Sequence[tuple[uuid.UUID, uuid.UUID | None]]
    ) -> None:
        """A group of uploads: the devices' status rows in one statement."""
        devices = sorted({device for _, device in uploads if device is not None})
        if devices:
            await liveness.lock_statuses(session, devices)


def fix_listener(runtime: Runtime) -> FixListener:
    return AlarmListener(runtime)


async def _live_device(session: AsyncSession, device_id: uuid.UUID) -> bool:
    device = await devices.get_device(session, device_id)
    return device is not None and device.revoked_at is None


async def check_silent_devices(runtime: Runtime) -> list[DeviceSilent]:
    """Raise DeviceSilent for each device silent past its child's limit, once per silence.

    Batches of ``SILENCE_BATCH``, each in its own transaction, published once committed.
    Revoked or removed devices are forgotten; silences of children monitoring no longer
    applies to are noted without telling anyone.
    """
    raised: list[DeviceSilent] = []
    while True:
        now = runtime.clock.now()
        batch: list[DeviceSilent] = []
        async with transaction(runtime.sessions) as session:
            due = await liveness.due_silences(session, now, SILENCE_BATCH)
            gone = [row.device_id for row in due if not await _live_device(session, row.device_id)]
            await liveness.forget_devices(session, gone)
            monitored: dict[uuid.UUID, bool] = {}
            for row in due:
                if row.device_id in gone:
                    continue
                if row.child_id not in monitored:
                    child = await children_repository.get(session, row.child_id)
                    monitored[row.child_id] = await _monitored(session, child, now)
                event = await liveness.note_silence(
                    session, row, now, alert=monitored[row.child_id]
                )
                if event is not None:
                    batch.append(event)
            await notify(session, runtime, batch)
        for event in batch:
            await runtime.bus.publish(event)
        raised.extend(batch)
        if len(due) < SILENCE_BATCH:
            return raised
