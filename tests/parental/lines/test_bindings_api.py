"""The carrier's RADIUS accounting binding child lines to addresses, through the HTTP API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from parental import worker
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, register_line

V4 = "10.1.2.3"
V6 = "2a02:db8:1:2::/64"


def event(
    world: FamilyWorld, kind: str = "start", ip: str = V4, session: str = "s1", **extra: Any
) -> dict[str, Any]:
    return {"msisdn": world.line, "ip": ip, "event": kind, "session_id": session, **extra}


async def post(
    client: httpx.AsyncClient, carrier: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post("/carrier/v1/bindings", headers=carrier, json=body)


async def holder(client: httpx.AsyncClient, carrier: dict[str, str], ip: str) -> str | None:
    """The MSISDN the address maps to now, or None."""
    response = await client.get("/carrier/v1/bindings", headers=carrier, params={"ip": ip})
    if response.status_code == 404:
        assert response.json()["error"] == "BindingNotFound"
        return None
    assert response.status_code == 200, response.text
    msisdn: str = response.json()["msisdn"]
    return msisdn


async def test_start_interim_stop(
    client: httpx.AsyncClient, carrier: dict[str, str], family: FamilyWorld, clock: FrozenClock
) -> None:
    started = await post(client, carrier, event(family, ttl_seconds=600))
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "active"
    assert body["binding"]["network"] == "10.1.2.3/32"
    assert await holder(client, carrier, V4) == family.line
    assert await holder(client, carrier, "10.1.2.4") is None

    clock.advance(timedelta(seconds=500))
    interim = await post(client, carrier, event(family, "interim", ttl_seconds=600))
    assert interim.json()["status"] == "active"
    clock.advance(timedelta(seconds=500))  # past the first expiry, within the refreshed one
    assert await holder(client, carrier, V4) == family.line

    stopped = await post(client, carrier, event(family, "stop"))
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "ended"
    assert stopped.json()["binding"]["end_reason"] == "stop"
    assert await holder(client, carrier, V4) is None


async def test_a_binding_lapses_without_interim(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    family: FamilyWorld,
    clock: FrozenClock,
    runtime: Runtime,
) -> None:
    await post(client, carrier, event(family))  # default TTL from the settings
    clock.advance(timedelta(seconds=runtime.settings.line_binding_ttl_seconds - 1))
    assert await holder(client, carrier, V4) == family.line
    clock.advance(timedelta(seconds=1))
    assert await holder(client, carrier, V4) is None
    # A late Interim of the lapsed session does not bring it back.
    late = await post(client, carrier, event(family, "interim"))
    assert late.status_code == 202
    assert late.json() == {
        "status": "ignored",
        "reason": "session_ended",
        "binding": late.json()["binding"],
    }
    assert await holder(client, carrier, V4) is None


async def test_events_are_idempotent_per_session(
    client: httpx.AsyncClient, carrier: dict[str, str], family: FamilyWorld
) -> None:
    first = await post(client, carrier, event(family))
    again = await post(client, carrier, event(family))
    assert again.json() == first.json()
    stop = await post(client, carrier, event(family, "stop"))
    stop_again = await post(client, carrier, event(family, "stop"))
    assert stop_again.status_code == 200
    assert stop_again.json() == stop.json()
    # A Start retransmitted after the Stop is recognised and ignored.
    late = await post(client, carrier, event(family))
    assert late.status_code == 202
    assert late.json()["reason"] == "session_ended"
    assert await holder(client, carrier, V4) is None
    unknown = await post(client, carrier, event(family, "stop", session="never-started"))
    assert unknown.status_code == 202
    assert unknown.json()["reason"] == "unknown_session"


async def test_a_reused_address_moves_to_the_newer_line(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    await post(client, carrier, event(family, session="a"))
    await post(client, carrier, event(other_family, session="b"))
    assert await holder(client, carrier, V4) == other_family.line
    # The first line's Stop, arriving late, does not unbind the address from the second.
    late_stop = await post(client, carrier, event(family, "stop", session="a"))
    assert late_stop.json()["binding"]["end_reason"] == "replaced"
    assert await holder(client, carrier, V4) == other_family.line
    # Nor does a late Interim of the replaced session take it back.
    assert (await post(client, carrier, event(family, "interim", session="a"))).status_code == 202
    assert await holder(client, carrier, V4) == other_family.line


async def test_ipv6_prefixes_and_the_longest_match(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    await post(client, carrier, event(family, ip="2a02:db8:1::/48", session="wide"))
    await post(client, carrier, event(other_family, ip=V6, session="narrow"))
    assert await holder(client, carrier, "2a02:db8:1:2::99") == other_family.line
    assert await holder(client, carrier, "2a02:db8:1:3::1") == family.line
    assert await holder(client, carrier, "2a02:db8:2::1") is None
    # The same network spelled another way is the same binding.
    spelled = await post(
        client,
        carrier,
        event(other_family, "interim", ip="2A02:0DB8:0001:0002::/64", session="narrow"),
    )
    assert spelled.status_code == 200, spelled.text


async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, carrier: dict[str, str], family: FamilyWorld
) -> None:
    await post(client, carrier, event(family, session="good"))
    bad_addresses = [
        "10.1.2.0/24",
        "10.1.2.3/31",
        "2a02:db8::/31",
        "::/0",
        "2a02:db8::1/64",  # host bits set
        "::ffff:10.1.2.3/128",
        "300.1.2.3",
        "10.1.2",
        "",
        "example.test",
    ]
    for ip in bad_addresses:
        response = await post(client, carrier, event(family, ip=ip, session="bad"))
        assert response.status_code == 400, (ip, response.text)
        assert response.json()["error"] == "InvalidBindingAddress"
    for body in (
        event(family, "restart", session="bad"),
        event(family, session=""),
        event(family, session="bad", ttl_seconds=0),
        {**event(family, session="bad"), "extra": 1},
        {"ip": V4, "event": "start", "session_id": "bad"},
    ):
        response = await post(client, carrier, body)
        assert response.status_code == 422, body
        assert response.json()["error"] == "ValidationError"
    number = await post(client, carrier, event(family, session="bad") | {"msisdn": "+79123456789"})
    assert number.status_code == 400
    assert number.json()["error"] == "InvalidMsisdn"
    unknown = await post(client, carrier, event(family, session="bad") | {"msisdn": "+77070000009"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "LineNotFound"
    # A session id is one session: the same id for another address is a conflict.
    clash = await post(client, carrier, event(family, ip="10.9.9.9", session="good"))
    assert clash.status_code == 409
    assert clash.json()["error"] == "SessionMismatch"
    query = await client.get("/carrier/v1/bindings", headers=carrier, params={"ip": "nope"})
    assert query.status_code == 400
    assert query.json()["error"] == "InvalidBindingAddress"
    # Nothing changed: the good binding is the only one, and the bad session never existed.
    assert await holder(client, carrier, V4) == family.line
    assert await holder(client, carrier, "10.9.9.9") is None
    never = await post(client, carrier, event(family, "stop", session="bad"))
    assert never.json()["reason"] == "unknown_session"


async def test_only_active_child_sims_are_bound(
    client: httpx.AsyncClient, carrier: dict[str, str], family: FamilyWorld
) -> None:
    await register_line(client, carrier, "+77075551111", "+77015551111", is_child_sim=False)
    adult = await post(
        client, carrier, {**event(family, session="adult"), "msisdn": "+77075551111"}
    )
    assert adult.status_code == 202
    assert adult.json() == {"status": "ignored", "reason": "not_child_sim", "binding": None}
    assert await holder(client, carrier, V4) is None

    await post(client, carrier, event(family))
    assert await holder(client, carrier, V4) == family.line
    gone = await client.delete(f"/carrier/v1/lines/{family.line}", headers=carrier)
    assert gone.status_code == 200
    assert await holder(client, carrier, V4) is None  # deactivating ends its bindings
    inactive = await post(client, carrier, event(family, session="s2"))
    assert inactive.status_code == 409
    assert inactive.json()["error"] == "LineInactive"


async def test_a_line_no_longer_a_child_sim_loses_its_bindings(
    client: httpx.AsyncClient, carrier: dict[str, str], family: FamilyWorld
) -> None:
    await post(client, carrier, event(family))
    await register_line(client, carrier, family.line, family.guardian.phone, is_child_sim=False)
    assert await holder(client, carrier, V4) is None


async def test_the_worker_purges_bindings_after_retention(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    family: FamilyWorld,
    clock: FrozenClock,
    runtime: Runtime,
) -> None:
    await post(client, carrier, event(family, session="old", ttl_seconds=60))
    retention = timedelta(hours=runtime.settings.line_binding_retention_hours)
    clock.advance(timedelta(seconds=60) + retention - timedelta(seconds=1))
    await post(client, carrier, event(family, ip="10.1.2.4", session="live"))
    assert (await worker.purge_expired(runtime)).line_bindings == 0
    # Until purged, a late event of the lapsed session is still recognised.
    assert (await post(client, carrier, event(family, session="old"))).status_code == 202
    clock.advance(timedelta(seconds=2))
    report = await worker.purge_expired(runtime)
    assert report.line_bindings == 1
    assert await holder(client, carrier, "10.1.2.4") == family.line
