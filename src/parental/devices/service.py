"""Pairing a child's device with a one-time code, and managing paired devices."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from parental.audit import service as audit
from parental.auth.lockout import LockoutPolicy, Lockouts
from parental.auth.models import Account
from parental.children import repository as children
from parental.children import service as children_service
from parental.children.errors import ChildNotFound
from parental.children.models import Child
from parental.devices import repository
from parental.devices.errors import (
    DeviceNotFound,
    InvalidDeviceToken,
    InvalidPairingCode,
    PairingLocked,
)
from parental.devices.models import Device, PairingCode
from parental.kit.ratelimit import Rule
from parental.kit.security import UNAMBIGUOUS_ALPHABET, keyed_hash, new_code, new_token
from parental.notifications import tokens as push_tokens
from parental.runtime import Runtime

# How often a device's last_seen_at is written at most: a device calls often, a write each time
# would turn every read into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedPairingCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class PairedDevice:
    device: Device
    token: str


def normalize_code(raw: str) -> str:
    """Codes are read off a screen: case, spaces and dashes do not matter."""
    return "".join(ch for ch in raw.upper() if ch not in " -")


def _code_hash(runtime: Runtime, code: str) -> str:
    return keyed_hash(runtime.secret, f"pairing:{code}")


async def create_pairing_code(
    session: AsyncSession, runtime: Runtime, *, child: Child, account: Account, ip: str | None
) -> IssuedPairingCode:
    """A single-use code, valid for ten minutes, for pairing a device to ``child``."""
    now = runtime.clock.now()
    code = new_code(runtime.settings.pairing_code_length, UNAMBIGUOUS_ALPHABET)
    expires_at = now + timedelta(seconds=runtime.settings.pairing_code_ttl_seconds)
    await repository.add(
        session,
        PairingCode(
            child_id=child.id,
            created_by=account.id,
            code_hash=_code_hash(runtime, code),
            created_at=now,
            expires_at=expires_at,
        ),
    )
    await audit.record(
        session,
        at=now,
        action="device.pairing_code_created",
        actor=audit.Actor("guardian", str(account.id)),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="child",
        subject_id=child.id,
        ip=ip,
    )
    return IssuedPairingCode(code=code, expires_at=expires_at)


async def pair_device(
    session: AsyncSession, runtime: Runtime, *, code: str, name: str, platform: str, ip: str
) -> PairedDevice:
    """Redeem a pairing code for a device token bound to the code's child."""
    s = runtime.settings
    # Fails closed while Redis is down, as sign-in does: pairing codes are guessable too.
    rule = Rule("pairing:ip", s.limit_pairing_attempts_per_ip, fail_closed=True)
    await runtime.limiter.hit(rule, ip)
    now = runtime.clock.now()
    # A wrong code names no child or family, so the caller's address is what is locked out.
    by_ip = LockoutPolicy.of(s, "pairing:ip", s.pairing_lockout_failures_per_ip, PairingLocked)
    lockouts = Lockouts(runtime.limiter.state, secret=runtime.secret)
    await lockouts.attempt(by_ip, ip, now=now)
    row = await repository.pairing_code_by_hash(session, _code_hash(runtime, normalize_code(code)))
    if row is None or not await repository.use_pairing_code(session, row.id, now):
        raise InvalidPairingCode()
    child = await children.get(session, row.child_id)
    if child is None:
        raise InvalidPairingCode()
    await lockouts.succeeded(by_ip, ip, now=now, forget=False)
    token = new_token("dt")
    device = Device(
        child_id=child.id,
        name=name,
        platform=platform,
        token_hash=keyed_hash(runtime.secret, token),
        created_at=now,
        last_seen_at=now,
    )
    await repository.add(session, device)
    await audit.record(
        session,
        at=now,
        action="device.paired",
        actor=audit.Actor("device", str(device.id)),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="device",
        subject_id=device.id,
        child_visible=True,
        ip=ip,
        details={"name": name, "platform": platform},
    )
    return PairedDevice(device=device, token=token)


async def authenticate(session: AsyncSession, runtime: Runtime, token: str) -> Device:
    """The device a token belongs to; revoked devices are refused."""
    device = await repository.device_by_token(session, keyed_hash(runtime.secret, token))
    if device is None or device.revoked_at is not None:
        raise InvalidDeviceToken()
    await note_seen(session, device, runtime.clock.now())
    return device


async def note_seen(session: AsyncSession, device: Device, now: datetime) -> None:
    """The device has just called: its last sign of contact, kept to ``LAST_SEEN_RESOLUTION``
    (a write every few minutes, not on every request)."""
    if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_RESOLUTION:
        await repository.touch(session, device.id, now)
        device.last_seen_at = now


async def guardian_device(session: AsyncSession, account: Account, device_id: uuid.UUID) -> Device:
    """The device ``device_id`` if it belongs to a child of the caller's family; 404 otherwise."""
    device = await repository.get_device(session, device_id)
    if device is None:
        raise DeviceNotFound()
    try:
        await children_service.guardian_child(session, account, device.child_id)
    except ChildNotFound as exc:
        raise DeviceNotFound() from exc
    return device


async def list_devices(session: AsyncSession, child: Child) -> list[Device]:
    return await repository.list_devices(session, child.id)


async def revoke_device(
    session: AsyncSession, *, device: Device, account: Account, now: datetime, ip: str | None
) -> Device:
    """Revoke a device: its token stops working at once. Revoking twice changes nothing."""
    if device.revoked_at is not None:
        return device
    device.revoked_at = now
    await push_tokens.delete_device(session, device.id)  # no command reaches it any more
    child = await children.get(session, device.child_id)
    await audit.record(
        session,
        at=now,
        action="device.revoked",
        actor=audit.Actor("guardian", str(account.id)),
        family_id=child.family_id if child else None,
        child_id=device.child_id,
        subject_type="device",
        subject_id=device.id,
        child_visible=True,
        ip=ip,
    )
    return device
