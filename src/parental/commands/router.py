"""Commands to the child's device, over HTTP.

Guardian (access token, a child of the caller's family: 404 otherwise):
``POST /v1/children/{id}/commands`` gives one (201; 403 once monitoring no longer applies or
a listening session is not allowed; 429 over the child's quota, nothing sent), and the
commands are listed and read back with their state. Giving a command is in the audit log the
child's device shows.

Device (device token, its own child only): ``PUT /v1/device/push-token`` registers the agent's
FCM token, its platform and language; ``GET /v1/device/commands`` is the check-in that returns
what still waits (and pushes again what the device missed); ``POST
/v1/device/commands/{id}/acks`` answers ``received``, ``done`` or ``failed``. What the agent
gets and must do is docs/device-contract.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import service as children
from parental.children.acting import record
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.commands import service
from parental.commands.errors import (
    CommandExpired,
    CommandFinished,
    CommandNotFound,
    CommandOverQuota,
    GuardianTooNew,
    ListenNeedsAudio,
    ListenNotForThisAge,
    ListenTooLong,
    LocateNeedsFix,
)
from parental.commands.models import DeviceCommand
from parental.commands.schemas import (
    CommandAck,
    CommandCreate,
    CommandKind,
    CommandPage,
    CommandRead,
    DeviceCommandPage,
    DeviceCommandRead,
    DevicePushTokenSet,
)
from parental.consent.errors import ConsentRequired
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.families import service as families
from parental.kit.errors import error_responses
from parental.kit.paging import InvalidCursor, encode_cursor
from parental.notifications import tokens

guardian_router = APIRouter(
    tags=["device commands"],
    responses=error_responses(InvalidAccessToken, ChildNotFound),
)
device_router = APIRouter(
    tags=["device agent"],
    responses=error_responses(InvalidDeviceToken, MonitoringInactive),
)

COMMANDS = "/children/{child_id}/commands"


def command_read(command: DeviceCommand, now: datetime) -> CommandRead:
    return CommandRead(
        id=command.id,
        child_id=command.child_id,
        kind=CommandKind(command.kind),
        text=command.text,
        seconds=command.seconds,
        state=service.state_at(command, now),
        issued_by=command.issued_by,
        created_at=command.created_at,
        expires_at=command.expires_at,
        pushes=command.pushes,
        device_id=command.device_id,
        received_at=command.received_at,
        finished_at=command.finished_at,
        failure_reason=command.failure_reason,
        result=command.result,
    )


def device_command_read(command: DeviceCommand, now: datetime) -> DeviceCommandRead:
    return DeviceCommandRead(
        id=command.id,
        kind=CommandKind(command.kind),
        text=command.text,
        seconds=command.seconds,
        state=service.state_at(command, now),
        created_at=command.created_at,
        expires_at=command.expires_at,
    )


@guardian_router.post(
    COMMANDS,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        MonitoringInactive,
        ListenNotForThisAge,
        GuardianTooNew,
        ConsentRequired,
        ListenTooLong,
        CommandOverQuota,
    ),
)
async def create_child_command(
    body: CommandCreate,
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> CommandRead:
    """Send a command to the child's device: ``locate_now``, ``ring`` (loud, even on silent),
    ``message`` (a text on the child's screen), ``listen`` (a short recording around the
    child) or ``sync_policy``. It goes at once to every device of the child that registered
    for push, and again when an offline device checks in, until it is finished or expires.
    The child is always shown the command, and the child's device shows that you sent it."""
    now = runtime.clock.now()
    children.require_monitoring(await children.monitoring_of(session, child, now))
    membership = await families.require_family_of(session, account)
    command = await service.issue(
        session,
        runtime.settings,
        child=child,
        account=account,
        membership=membership,
        body=body,
        now=now,
    )
    details: dict[str, object] = {"kind": command.kind, "command_id": str(command.id)}
    if command.text is not None:
        details["text"] = command.text
    if command.seconds is not None:
        details["seconds"] = command.seconds
    await record(
        session,
        child,
        audit.Actor("guardian", str(account.id)),
        at=now,
        action=f"command.{command.kind}",
        subject=("command", command.id),
        details=details,
        ip=ip,
    )
    read = command_read(command, now)
    await session.commit()
    return read


@guardian_router.get(COMMANDS, responses=error_responses(InvalidCursor))
async def list_child_commands(
    child: OwnedChild,
    session: SessionDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CommandPage:
    """The child's commands, newest first, each with how far the device got."""
    rows, more = await service.page_of_child(session, child.id, limit=limit, cursor=cursor)
    now = runtime.clock.now()
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return CommandPage(items=[command_read(row, now) for row in rows], next_cursor=next_cursor)


@guardian_router.get(COMMANDS + "/{command_id}", responses=error_responses(CommandNotFound))
async def get_child_command(
    command_id: uuid.UUID, child: OwnedChild, session: SessionDep, runtime: RuntimeDep
) -> CommandRead:
    """One command of the child and its state."""
    command = await service.of_child(session, child.id, command_id)
    return command_read(command, runtime.clock.now())


async def _monitored_child_id(device: CurrentDevice, session: SessionDep, now: datetime) -> None:
    await children.monitored_child(session, device.child_id, now)


@device_router.put("/device/push-token", status_code=status.HTTP_204_NO_CONTENT)
async def register_device_push_token(
    body: DevicePushTokenSet, device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Register the agent's FCM token (again on every start and whenever FCM renews it), with
    the phone's platform (the one it was paired with when not given) and language: commands
    and policy changes reach the device through it."""
    await tokens.register_device(
        session,
        device_id=device.id,
        token=body.token,
        platform=body.platform or device.platform,
        locale=body.locale,
        now=runtime.clock.now(),
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@device_router.delete("/device/push-token", status_code=status.HTTP_204_NO_CONTENT)
async def delete_device_push_token(device: CurrentDevice, session: SessionDep) -> Response:
    """Forget the agent's FCM token; commands then wait for the device to check in."""
    await tokens.delete_device(session, device.id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@device_router.get("/device/commands")
async def list_device_commands(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> DeviceCommandPage:
    """Check in: the commands still waiting for this child's devices, oldest first. What the
    device has not received yet is pushed to it again."""
    now = runtime.clock.now()
    await _monitored_child_id(device, session, now)
    waiting = await service.check_in(
        session, runtime.settings, child_id=device.child_id, device_id=device.id, now=now
    )
    page = DeviceCommandPage(items=[device_command_read(c, now) for c in waiting])
    await session.commit()
    return page


@device_router.post(
    "/device/commands/{command_id}/acks",
    responses=error_responses(
        CommandNotFound, CommandExpired, CommandFinished, ListenNeedsAudio, LocateNeedsFix
    ),
)
async def create_device_command_ack(
    command_id: uuid.UUID,
    body: CommandAck,
    device: CurrentDevice,
    session: SessionDep,
    runtime: RuntimeDep,
) -> DeviceCommandRead:
    """Answer a command: ``received`` (it is on the screen / running), ``done`` or ``failed``
    with a reason. ``locate_now`` is done with ``fix_time``, the time of the fresh fix just
    uploaded; ``listen`` is done by uploading the recording. Sending an answer again changes
    nothing; a finished command does not change (409), an expired one is gone (410)."""
    now = runtime.clock.now()
    await _monitored_child_id(device, session, now)
    command = await service.of_child(session, device.child_id, command_id)
    if await service.acknowledge(session, command, device_id=device.id, ack=body, now=now):
        await session.commit()
    return device_command_read(command, now)
