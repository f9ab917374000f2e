"""A demo family for a local trial: seeded through the real services, credentials printed.

Runs the same flows a carrier, a parent and a child's device would: the carrier registers a
child SIM, the parent signs in with the code from the (development) SMS sink, creates a family,
adds the child and pairs a device with a one-time code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from parental.audit.service import Actor
from parental.auth import service as auth
from parental.children import repository as children_repository
from parental.children import service as children
from parental.devices import repository as devices_repository
from parental.devices import service as devices
from parental.families import service as families
from parental.kit.db import transaction
from parental.lines import repository as lines_repository
from parental.lines import service as lines
from parental.runtime import Runtime
from parental.sms.sender import LogSmsSender

DEMO_GUARDIAN_PHONE = "+77010000001"
DEMO_CHILD_LINE = "+77070000001"
DEMO_IP = "127.0.0.1"


@dataclass(frozen=True)
class DemoCredentials:
    guardian_phone: str
    access_token: str
    refresh_token: str
    child_id: str
    device_id: str
    device_token: str
    service_key: str


async def seed_demo(runtime: Runtime) -> DemoCredentials:
    """Seed (or reuse) the demo family and return fresh credentials for it."""
    if not isinstance(runtime.sms, LogSmsSender):
        raise RuntimeError("the demo reads its sign-in code from the development SMS sink")
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        service_key = await lines.create_service_key(
            session, name=f"demo-{now:%Y%m%d%H%M%S%f}", secret=runtime.secret, now=now
        )
        if await lines_repository.get_line_by_msisdn(session, DEMO_CHILD_LINE) is None:
            await lines.register_line(
                session,
                msisdn=DEMO_CHILD_LINE,
                guardian_phone=DEMO_GUARDIAN_PHONE,
                is_child_sim=True,
                active=True,
                now=now,
                actor=Actor("carrier", "demo"),
            )
        await auth.request_sign_in_code(
            session, runtime, phone=DEMO_GUARDIAN_PHONE, locale="en", ip=DEMO_IP
        )
    sms = runtime.sms.last_to(DEMO_GUARDIAN_PHONE)
    assert sms is not None
    found = re.search(rf"\b\d{{{runtime.settings.sign_in_code_digits}}}\b", sms.text)
    assert found is not None
    code = found.group()
    async with transaction(runtime.sessions) as session:
        issued = await auth.sign_in_with_code(
            session, runtime, phone=DEMO_GUARDIAN_PHONE, code=code, locale="en", ip=DEMO_IP
        )
        account = issued.account
        if await families.family_of(session, account) is None:
            await families.create_family(session, account=account, name="Demo family", now=now)
        line = await lines_repository.get_line_by_msisdn(session, DEMO_CHILD_LINE)
        assert line is not None
        child = await children_repository.by_line(session, line.id)
        if child is None:
            child, _ = await children.add_child(
                session,
                account=account,
                name="Aigerim",
                birthdate=date(now.year - 11, 3, 8),
                msisdn=DEMO_CHILD_LINE,
                timezone=runtime.settings.default_child_timezone,
                now=now,
            )
        for old in await devices_repository.list_devices(session, child.id):
            await devices.revoke_device(session, device=old, account=account, now=now, ip=DEMO_IP)
        pairing = await devices.create_pairing_code(
            session, runtime, child=child, account=account, ip=DEMO_IP
        )
        paired = await devices.pair_device(
            session,
            runtime,
            code=pairing.code,
            name="Aigerim's phone",
            platform="android",
            ip=DEMO_IP,
        )
    return DemoCredentials(
        guardian_phone=DEMO_GUARDIAN_PHONE,
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        child_id=str(child.id),
        device_id=str(paired.device.id),
        device_token=paired.token,
        service_key=service_key,
    )
