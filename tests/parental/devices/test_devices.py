"""Pairing a child's device with a one-time code, and managing devices."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from parental.devices.models import Device, PairingCode
from parental.kit.clock import FrozenClock
from parental.kit.security import UNAMBIGUOUS_ALPHABET
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld


async def new_code(client: httpx.AsyncClient, family: FamilyWorld) -> str:
    response = await client.post(
        f"/v1/children/{family.child_id}/pairing-codes", headers=family.guardian.headers
    )
    assert response.status_code == 201
    code: str = response.json()["code"]
    return code


def pair_body(code: str, name: str = "Tablet") -> dict[str, str]:
    return {"code": code, "name": name, "platform": "ios"}


async def test_pairing_codes_are_long_unambiguous_and_stored_hashed(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    response = await client.post(
        f"/v1/children/{family.child_id}/pairing-codes", headers=family.guardian.headers
    )
    code = response.json()["code"]
    assert len(code) >= 8
    assert set(code) <= set(UNAMBIGUOUS_ALPHABET)
    assert response.json()["expires_at"].startswith(
        (clock.now() + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    )
    async with runtime.sessions() as session:
        hashes = (await session.scalars(select(PairingCode.code_hash))).all()
    assert all(code not in h for h in hashes)


async def test_a_code_pairs_once_and_is_forgiving_about_case_and_dashes(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    code = await new_code(client, family)
    typed = f"{code[:5].lower()}-{code[5:]}"
    paired = await client.post("/v1/device/pair", json=pair_body(typed))
    assert paired.status_code == 201, paired.text
    assert paired.json()["child_id"] == family.child_id
    assert paired.json()["device_token"].startswith("dt_")
    again = await client.post("/v1/device/pair", json=pair_body(code))
    assert again.status_code == 400
    assert again.json()["error"] == "InvalidPairingCode"


async def test_an_expired_or_wrong_code_pairs_nothing(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    code = await new_code(client, family)
    clock.advance(timedelta(minutes=10, seconds=1))
    expired = await client.post("/v1/device/pair", json=pair_body(code))
    assert expired.status_code == 400
    wrong = await client.post("/v1/device/pair", json=pair_body("ABCDEFGHJK"))
    assert wrong.status_code == 400
    async with runtime.sessions() as session:
        devices = (await session.scalars(select(Device))).all()
    assert [str(d.id) for d in devices] == [family.device_id]


async def test_code_entry_is_rate_limited(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    # 10 entries a minute per address; pairing the fixture's device used one of them.
    statuses = [
        (await client.post("/v1/device/pair", json=pair_body("WRONGCODE2"))).status_code
        for _ in range(10)
    ]
    assert statuses == [400] * 9 + [429]
    # Even a right code waits out the limit: guessing cannot be interleaved with real entries.
    code = await new_code(client, family)
    assert (await client.post("/v1/device/pair", json=pair_body(code))).status_code == 429


async def test_device_token_is_stored_hashed_and_identifies_the_device(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    async with runtime.sessions() as session:
        device = (await session.scalars(select(Device))).one()
    assert family.device_token not in device.token_hash
    me = await client.get("/v1/device", headers=family.device_headers)
    assert me.json()["device"]["id"] == family.device_id


async def test_list_rename_and_revoke(
    client: httpx.AsyncClient, family: FamilyWorld, clock: FrozenClock
) -> None:
    headers = family.guardian.headers
    listed = await client.get(f"/v1/children/{family.child_id}/devices", headers=headers)
    assert [d["id"] for d in listed.json()["items"]] == [family.device_id]
    renamed = await client.patch(
        f"/v1/devices/{family.device_id}", headers=headers, json={"name": "Old phone"}
    )
    assert renamed.json()["name"] == "Old phone"
    clock.advance(timedelta(minutes=1))
    revoked = await client.delete(f"/v1/devices/{family.device_id}", headers=headers)
    assert revoked.status_code == 204
    assert (await client.get("/v1/device", headers=family.device_headers)).status_code == 401
    device = await client.get(f"/v1/devices/{family.device_id}", headers=headers)
    assert device.json()["revoked_at"] is not None
    # Revoking again is harmless.
    assert (
        await client.delete(f"/v1/devices/{family.device_id}", headers=headers)
    ).status_code == 204


async def test_the_child_sees_pairing_and_revocation_but_not_guardian_bookkeeping(
    client: httpx.AsyncClient, family: FamilyWorld, clock: FrozenClock
) -> None:
    clock.advance(timedelta(minutes=1))
    code = await new_code(client, family)
    clock.advance(timedelta(minutes=1))
    paired = await client.post("/v1/device/pair", json=pair_body(code, "Second"))
    clock.advance(timedelta(minutes=1))
    await client.delete(
        f"/v1/devices/{paired.json()['device_id']}", headers=family.guardian.headers
    )
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    actions = [e["action"] for e in events.json()["items"]]
    assert actions[:2] == ["device.revoked", "device.paired"]
    # The fixture added the child and paired its device at the same instant.
    assert sorted(actions[2:]) == ["child.added", "device.paired"]
    assert all(e["child_visible"] for e in events.json()["items"])


async def test_tokens_do_not_cross_roles(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    # A device token is not a parent token, and a parent token is not a device token.
    assert (await client.get("/v1/children", headers=family.device_headers)).status_code == 401
    assert (await client.get("/v1/device", headers=family.guardian.headers)).status_code == 401
    bad = await client.post(
        "/v1/device/pair", json={**pair_body("ABCDEFGHJK"), "platform": "nokia"}
    )
    assert bad.status_code == 422
