"""Building test worlds through the public API, the way real callers would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from filters.curation import publishing
from filters.curation import service as curation
from filters.engine.formats import parse
from parental.admin import service as staff_accounts
from parental.kit.db import transaction
from parental.lines import service as lines
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import sms_code

CONSENTS = {
    "consents": ["messages", "listening"],
    "consent_text_version": ParentalSettings.model_fields["consent_text_version"].default,
}


@dataclass
class Guardian:
    phone: str
    account_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class FamilyWorld:
    guardian: Guardian
    family_id: str
    child_id: str
    line: str
    device_id: str
    device_token: str

    @property
    def device_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.device_token}"}


async def sign_in(client: httpx.AsyncClient, runtime: Runtime, phone: str) -> Guardian:
    sent = await client.post("/v1/auth/sign-in-codes", json={"phone": phone, "locale": "ru"})
    assert sent.status_code == 202, sent.text
    response = await client.post(
        "/v1/auth/tokens", json={"phone": phone, "code": sms_code(runtime, phone)}
    )
    assert response.status_code == 201, response.text
    tokens = response.json()
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    return Guardian(
        phone=phone,
        account_id=me.json()["id"],
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


async def carrier_headers(runtime: Runtime, name: str = "bss") -> dict[str, str]:
    async with transaction(runtime.sessions) as session:
        key = await lines.create_service_key(
            session, name=name, secret=runtime.secret, now=runtime.clock.now()
        )
    return {"Authorization": f"Bearer {key}"}


async def register_line(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    msisdn: str,
    guardian_phone: str,
    *,
    is_child_sim: bool = True,
    active: bool = True,
) -> dict[str, Any]:
    response = await client.put(
        f"/carrier/v1/lines/{msisdn}",
        headers=carrier,
        json={"guardian_phone": guardian_phone, "is_child_sim": is_child_sim, "active": active},
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def create_family(client: httpx.AsyncClient, guardian: Guardian, name: str = "Family") -> str:
    response = await client.post("/v1/families", headers=guardian.headers, json={"name": name})
    assert response.status_code == 201, response.text
    family_id: str = response.json()["id"]
    return family_id


async def add_child(
    client: httpx.AsyncClient,
    guardian: Guardian,
    msisdn: str,
    *,
    name: str = "Aigerim",
    birthdate: str = "2015-03-08",
) -> dict[str, Any]:
    response = await client.post(
        "/v1/children",
        headers=guardian.headers,
        # The add-child form's consents: messages and listening need one (parental.consent).
        json={"name": name, "birthdate": birthdate, "msisdn": msisdn, **CONSENTS},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def pair_device(
    client: httpx.AsyncClient,
    guardian: Guardian,
    child_id: str,
    name: str = "Phone",
    platform: str = "android",
) -> tuple[str, str]:
    code = await client.post(f"/v1/children/{child_id}/pairing-codes", headers=guardian.headers)
    assert code.status_code == 201, code.text
    paired = await client.post(
        "/v1/device/pair",
        json={"code": code.json()["code"], "name": name, "platform": platform},
    )
    assert paired.status_code == 201, paired.text
    body = paired.json()
    return body["device_id"], body["device_token"]


async def build_family(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    *,
    guardian_phone: str,
    line: str,
) -> FamilyWorld:
    """A signed-in guardian with a family, a child on a registered line and a paired device."""
    guardian = await sign_in(client, runtime, guardian_phone)
    family_id = await create_family(client, guardian)
    await register_line(client, carrier, line, guardian_phone)
    child = await add_child(client, guardian, line)
    device_id, device_token = await pair_device(client, guardian, child["id"])
    return FamilyWorld(
        guardian=guardian,
        family_id=family_id,
        child_id=child["id"],
        line=line,
        device_id=device_id,
        device_token=device_token,
    )


STAFF_PASSWORD = "correct horse battery staple"


async def staff_headers(
    client: httpx.AsyncClient, runtime: Runtime, username: str = "curator", role: str = "curator"
) -> dict[str, str]:
    """Headers of a new staff member, signed in with their password."""
    async with transaction(runtime.sessions) as session:
        await staff_accounts.create_staff(
            session,
            username=username,
            password=STAFF_PASSWORD,
            role=role,
            now=runtime.clock.now(),
        )
    response = await client.post(
        "/admin/v1/auth/tokens", json={"username": username, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def publish_lists(runtime: Runtime, lists: dict[str, list[str]]) -> int:
    """Publish one source per category (category key -> the lines of its list) and put the
    version in force; returns its number."""
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await curation.seed_categories(session, now=now)
        for category, lines in lists.items():
            source = await curation.create_source(
                session, name=category, category_key=category, kind="file", now=now
            )
            rules, report = parse(lines)
            await curation.replace_rules(
                session, source, rules, report=report, actor="test", now=now
            )
        version = await publishing.publish(
            session, snapshot_path=runtime.snapshots.path_for_number, actor="test", now=now
        )
    await runtime.snapshots.publish(str(version.number), runtime.notices)
    return version.number
