"""The whole path a new family takes, end to end, on whichever database the run uses."""

from __future__ import annotations

from datetime import timedelta

import httpx

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.conftest import sms_code
from tests.parental.factories import carrier_headers


async def test_parent_signs_in_adds_child_pairs_device_and_device_uses_its_token(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    carrier = await carrier_headers(runtime)
    parent_phone, child_line = "+77011112233", "+77071112233"

    registered = await client.put(
        f"/carrier/v1/lines/{child_line}",
        headers=carrier,
        json={"guardian_phone": parent_phone, "is_child_sim": True},
    )
    assert registered.status_code == 201, registered.text

    sent = await client.post("/v1/auth/sign-in-codes", json={"phone": "+7 701 111 22 33"})
    assert sent.status_code == 202
    assert sent.json() == {"expires_in": 300, "code_length": 6}
    signed_in = await client.post(
        "/v1/auth/tokens", json={"phone": parent_phone, "code": sms_code(runtime, parent_phone)}
    )
    assert signed_in.status_code == 201, signed_in.text
    parent = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

    family = await client.post("/v1/families", headers=parent, json={"name": "Nurlanovs"})
    assert family.status_code == 201, family.text
    assert family.json()["guardians"][0]["role"] == "owner"

    child = await client.post(
        "/v1/children",
        headers=parent,
        json={"name": "Aruzhan", "birthdate": "2014-06-01", "msisdn": child_line},
    )
    assert child.status_code == 201, child.text
    child_id = child.json()["id"]
    assert child.json()["monitoring"] == {"active": True, "ends_on": "2032-06-01", "reasons": []}
    assert child.json()["timezone"] == "Asia/Almaty"

    clock.advance(timedelta(minutes=3))
    code = await client.post(f"/v1/children/{child_id}/pairing-codes", headers=parent)
    assert code.status_code == 201
    paired = await client.post(
        "/v1/device/pair",
        json={"code": code.json()["code"], "name": "Aruzhan's phone", "platform": "android"},
    )
    assert paired.status_code == 201, paired.text
    device = {"Authorization": f"Bearer {paired.json()['device_token']}"}

    me = await client.get("/v1/device", headers=device)
    assert me.status_code == 200, me.text
    assert me.json()["child"]["id"] == child_id
    assert me.json()["monitoring"]["active"] is True

    devices = await client.get(f"/v1/children/{child_id}/devices", headers=parent)
    assert [d["name"] for d in devices.json()["items"]] == ["Aruzhan's phone"]

    # The child's device sees that a device was paired to it.
    seen = await client.get("/v1/device/audit-events", headers=device)
    assert [e["action"] for e in seen.json()["items"]] == ["device.paired", "child.added"]
