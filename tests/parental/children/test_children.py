"""Adding children on registered child SIM lines, and what the parent sees."""

from __future__ import annotations

from datetime import timedelta

import httpx

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import (
    FamilyWorld,
    create_family,
    register_line,
    sign_in,
)

PARENT, OTHER = "+77011110000", "+77012220000"
LINE = "+77071110000"


async def signed_in_family(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    guardian = await sign_in(client, runtime, PARENT)
    await create_family(client, guardian)
    return guardian.headers


def child(msisdn: str = LINE, **fields: object) -> dict[str, object]:
    return {"name": "Dias", "birthdate": "2013-09-01", "msisdn": msisdn, **fields}


async def test_a_child_needs_a_family(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> None:
    guardian = await sign_in(client, runtime, PARENT)
    await register_line(client, carrier, LINE, PARENT)
    response = await client.post("/v1/children", headers=guardian.headers, json=child())
    assert response.status_code == 409
    assert response.json()["error"] == "NoFamily"


async def test_only_a_child_sim_registered_to_the_caller_can_be_used(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> None:
    headers = await signed_in_family(client, runtime)
    cases = {
        "+77071110001": None,  # not registered at all
        "+77071110002": {"guardian": OTHER, "is_child_sim": True, "active": True},
        "+77071110003": {"guardian": PARENT, "is_child_sim": False, "active": True},
        "+77071110004": {"guardian": PARENT, "is_child_sim": True, "active": False},
    }
    for msisdn, line in cases.items():
        if line is not None:
            await register_line(
                client,
                carrier,
                msisdn,
                str(line["guardian"]),
                is_child_sim=bool(line["is_child_sim"]),
                active=bool(line["active"]),
            )
        response = await client.post("/v1/children", headers=headers, json=child(msisdn))
        assert response.status_code == 400, msisdn
        assert response.json()["error"] == "LineNotRegistered"
    listed = await client.get("/v1/children", headers=headers)
    assert listed.json()["items"] == []


async def test_a_line_carries_one_child(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> None:
    headers = await signed_in_family(client, runtime)
    await register_line(client, carrier, LINE, PARENT)
    assert (await client.post("/v1/children", headers=headers, json=child())).status_code == 201
    again = await client.post("/v1/children", headers=headers, json=child(name="Twin"))
    assert again.status_code == 409
    assert again.json()["error"] == "LineTaken"


async def test_adults_and_unborn_children_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], clock: FrozenClock
) -> None:
    headers = await signed_in_family(client, runtime)
    await register_line(client, carrier, LINE, PARENT)
    today = clock.now().date()
    adult = child(birthdate=today.replace(year=today.year - 18).isoformat())
    response = await client.post("/v1/children", headers=headers, json=adult)
    assert response.status_code == 400
    assert response.json()["error"] == "NotAMinor"
    future = child(birthdate=(today + timedelta(days=2)).isoformat())
    response = await client.post("/v1/children", headers=headers, json=future)
    assert response.json()["error"] == "InvalidBirthdate"
    bad_zone = child(timezone="Mars/Olympus")
    response = await client.post("/v1/children", headers=headers, json=bad_zone)
    assert response.json()["error"] == "UnknownTimezone"
    bad_date = child(birthdate="2013-02-30")
    assert (await client.post("/v1/children", headers=headers, json=bad_date)).status_code == 422


async def test_monitoring_stops_when_the_carrier_deactivates_the_line(
    client: httpx.AsyncClient, family: FamilyWorld, carrier: dict[str, str]
) -> None:
    url = f"/v1/children/{family.child_id}"
    assert (await client.get(url, headers=family.guardian.headers)).json()["monitoring"][
        "active"
    ] is True
    gone = await client.delete(f"/carrier/v1/lines/{family.line}", headers=carrier)
    assert gone.status_code == 200
    seen = await client.get(url, headers=family.guardian.headers)
    assert seen.json()["monitoring"] == {
        "active": False,
        "ends_on": "2033-03-08",
        "reasons": ["line_inactive"],
    }
    # The child's own device is told too.
    device = await client.get("/v1/device", headers=family.device_headers)
    assert device.json()["monitoring"]["active"] is False


async def test_monitoring_stops_at_eighteen(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=365 * 7))  # 2033-11: the demo child was born 2015-03-08
    device = await client.get("/v1/device", headers=family.device_headers)
    assert device.json()["monitoring"]["active"] is False
    assert device.json()["monitoring"]["reasons"] == ["adult"]


async def test_update_and_remove_a_child(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    url = f"/v1/children/{family.child_id}"
    headers = family.guardian.headers
    renamed = await client.patch(
        url, headers=headers, json={"name": "Aru", "timezone": "Asia/Aqtau"}
    )
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["timezone"]) == ("Aru", "Asia/Aqtau")
    bad = await client.patch(url, headers=headers, json={"timezone": "Nowhere"})
    assert bad.status_code == 400
    no_birthdate_change = await client.patch(url, headers=headers, json={"birthdate": "2001-01-01"})
    assert no_birthdate_change.status_code == 422

    assert (await client.delete(url, headers=headers)).status_code == 204
    assert (await client.get(url, headers=headers)).status_code == 404
    # The child's device token dies with the child.
    assert (await client.get("/v1/device", headers=family.device_headers)).status_code == 401


async def test_the_child_log_records_who_did_what(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    events = await client.get(
        f"/v1/children/{family.child_id}/audit-events", headers=family.guardian.headers
    )
    actions = [e["action"] for e in events.json()["items"]]
    assert set(actions) == {"child.added", "device.pairing_code_created", "device.paired"}
