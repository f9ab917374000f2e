"""The carrier's systems registering child SIM lines."""

from __future__ import annotations

import httpx

from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, carrier_headers, register_line, sign_in

LINE, GUARDIAN = "+77075550000", "+77015550000"


async def test_register_update_read_and_deactivate(
    client: httpx.AsyncClient, carrier: dict[str, str]
) -> None:
    body = {"guardian_phone": GUARDIAN, "is_child_sim": True}
    created = await client.put(f"/carrier/v1/lines/{LINE}", headers=carrier, json=body)
    assert created.status_code == 201
    assert created.json()["msisdn"] == LINE
    # Without the + (as URLs often carry it) the same line is updated, not duplicated.
    updated = await client.put(
        f"/carrier/v1/lines/{LINE[1:]}", headers=carrier, json={**body, "is_child_sim": False}
    )
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    read = await client.get(f"/carrier/v1/lines/{LINE}", headers=carrier)
    assert read.json()["is_child_sim"] is False
    gone = await client.delete(f"/carrier/v1/lines/{LINE}", headers=carrier)
    assert gone.json()["active"] is False


async def test_only_carrier_numbers_are_accepted(
    client: httpx.AsyncClient, carrier: dict[str, str]
) -> None:
    body = {"guardian_phone": GUARDIAN, "is_child_sim": True}
    for bad in ["+79123456789", "12", "+77", "not-a-number"]:
        response = await client.put(f"/carrier/v1/lines/{bad}", headers=carrier, json=body)
        assert response.status_code == 400, bad
        assert response.json()["error"] == "InvalidMsisdn"
    missing = await client.get("/carrier/v1/lines/+77070000009", headers=carrier)
    assert missing.status_code == 404
    bad_guardian = await client.put(
        f"/carrier/v1/lines/{LINE}",
        headers=carrier,
        json={"guardian_phone": "8701", "is_child_sim": True},
    )
    assert bad_guardian.status_code == 422


async def test_service_key_is_required_and_other_tokens_refused(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    url = f"/carrier/v1/lines/{family.line}"
    for headers in (
        {},
        {"Authorization": "Bearer sk_not-a-key"},
        family.guardian.headers,
        family.device_headers,
    ):
        response = await client.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "InvalidServiceKey"


async def test_a_guardian_takes_over_a_line_only_when_the_carrier_says_so(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    carrier = await carrier_headers(runtime, "crm")
    newcomer = await sign_in(client, runtime, "+77017770000")
    await client.post("/v1/families", headers=newcomer.headers, json={"name": "New"})
    body = {"name": "X", "birthdate": "2014-01-01", "msisdn": family.line}
    taken = await client.post("/v1/children", headers=newcomer.headers, json=body)
    assert taken.status_code == 400
    # The contract moves to the newcomer: the existing child stays, monitoring for the
    # old family stops because the line is no longer under one of its guardians.
    await register_line(client, carrier, family.line, newcomer.phone)
    child = await client.get(f"/v1/children/{family.child_id}", headers=family.guardian.headers)
    assert child.json()["monitoring"]["reasons"] == ["not_guardians_line"]
