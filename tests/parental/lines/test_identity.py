"""Which subject a DNS query gets: by source address, client subnet or the line option."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from filters.check.router import Subject
from parental.kit.clock import FrozenClock
from parental.kit.settings import KitSettings
from parental.lines.identity import LineIdentity
from parental.runtime import Runtime
from parental.settings import ParentalSettings, UnknownSources
from parental.sms.sender import LogSmsSender
from tests.conftest import open_runtime
from tests.parental.factories import FamilyWorld, build_family, carrier_headers, register_line

V4, V6 = "10.1.2.3", "2a02:db8:1:2::/64"


@pytest.fixture
async def identity(runtime: Runtime) -> AsyncIterator[LineIdentity]:
    found = LineIdentity(runtime)
    await found.start()
    yield found
    await found.stop()


async def bind(
    client: httpx.AsyncClient, carrier: dict[str, str], world: FamilyWorld, **fields: Any
) -> None:
    body = {"msisdn": world.line, "ip": V4, "event": "start", "session_id": "s1", **fields}
    response = await client.post("/carrier/v1/bindings", headers=carrier, json=body)
    assert response.status_code == 200, response.text


def hosts(subject: Subject | None) -> set[str]:
    assert subject is not None
    return {entry.host for entry in subject.profile.entries}


@pytest.fixture
async def personal(client: httpx.AsyncClient, family: FamilyWorld) -> FamilyWorld:
    """The family's child with an entry of their own, to tell their profile from the default."""
    added = await client.post(
        f"/v1/children/{family.child_id}/filter-profile/entries",
        headers=family.guardian.headers,
        json={"host": "games.test", "action": "block"},
    )
    assert added.status_code == 201, added.text
    return family


async def test_a_bound_address_gets_its_childs_profile(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    personal: FamilyWorld,
    identity: LineIdentity,
) -> None:
    unknown = await identity.subject(V4)
    assert unknown is not None
    assert (unknown.child_id, hosts(unknown)) == (None, set())
    await bind(client, carrier, personal)
    await bind(client, carrier, personal, ip=V6, session_id="s6")
    # The watcher may already have applied them (a binding notice): then this finds nothing new.
    await identity.index.refresh()
    for source in (V4, socket.inet_pton(socket.AF_INET, V4), "2a02:db8:1:2::abcd"):
        subject = await identity.subject(source)
        assert subject is not None
        assert str(subject.child_id) == personal.child_id
        assert hosts(subject) == {"games.test"}
    assert (await identity.subject("10.1.2.4")) == unknown


async def test_monitoring_that_ended_counts_for_nobody(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    personal: FamilyWorld,
    identity: LineIdentity,
) -> None:
    await bind(client, carrier, personal)
    # The contract moves to someone outside the family: still the child's filter, not counted.
    await register_line(client, carrier, personal.line, "+77015559999")
    await identity.index.refresh()
    subject = await identity.subject(V4)
    assert subject is not None
    assert subject.child_id is None
    assert hosts(subject) == {"games.test"}


async def test_a_child_sim_without_a_child_gets_the_default(
    client: httpx.AsyncClient, carrier: dict[str, str], identity: LineIdentity
) -> None:
    await register_line(client, carrier, "+77075552222", "+77015552222")
    response = await client.post(
        "/carrier/v1/bindings",
        headers=carrier,
        json={"msisdn": "+77075552222", "ip": V4, "event": "start", "session_id": "x"},
    )
    assert response.status_code == 200
    await identity.index.refresh()
    subject = await identity.subject(V4)
    assert subject is not None
    assert (subject.child_id, hosts(subject)) == (None, set())


async def test_the_edns_options_name_the_line(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    personal: FamilyWorld,
    identity: LineIdentity,
) -> None:
    resolver = "192.0.2.53"  # every query comes from the carrier's resolver
    by_number = await identity.subject(resolver, line_option=personal.line.encode())
    by_device = await identity.subject(resolver, line_option=personal.device_id.encode())
    for subject in (by_number, by_device):
        assert subject is not None
        assert str(subject.child_id) == personal.child_id
    stranger = await identity.subject(resolver, line_option=str(uuid.uuid4()).encode())
    assert stranger is not None
    assert stranger.child_id is None
    foreign = await identity.subject(resolver, line_option=b"+79123456789")
    assert foreign is not None
    assert foreign.child_id is None
    with pytest.raises(ValueError, match="neither an E"):
        await identity.subject(resolver, line_option=b"garbage")

    await bind(client, carrier, personal)
    await bind(client, carrier, personal, ip=V6, session_id="s6")
    await identity.index.refresh()
    exact = bytes([0, 1, 32, 0, 10, 1, 2, 3])
    subnet = await identity.subject(resolver, client_subnet=exact)
    assert subnet is not None
    assert str(subnet.child_id) == personal.child_id
    v6 = bytes([0, 2, 64, 0]) + socket.inet_pton(socket.AF_INET6, "2a02:db8:1:2::")[:8]
    subject6 = await identity.subject(resolver, client_subnet=v6)
    assert subject6 is not None
    assert str(subject6.child_id) == personal.child_id
    # A /24 covers many clients, and a /56 is wider than the bound /64: neither names the line.
    for coarse in (
        bytes([0, 1, 24, 0, 10, 1, 2]),
        bytes([0, 2, 56, 0]) + socket.inet_pton(socket.AF_INET6, "2a02:db8:1::")[:7],
    ):
        other = await identity.subject(resolver, client_subnet=coarse)
        assert other is not None
        assert other.child_id is None
    with pytest.raises(ValueError, match="malformed client subnet"):
        await identity.subject(resolver, client_subnet=b"\x00\x01")


async def test_unknown_sources_may_be_refused(
    kit_settings: KitSettings, clock: FrozenClock, family: FamilyWorld
) -> None:
    settings = ParentalSettings(line_unknown_sources=UnknownSources.REFUSE)
    async with open_runtime(kit_settings, settings, clock, LogSmsSender()) as refusing:
        found = LineIdentity(refusing)
        await found.start()
        try:
            assert await found.subject("10.9.9.9") is None
            assert await found.subject("10.9.9.9", line_option=b"+77070000009") is None
            known = await found.subject("10.9.9.9", line_option=family.line.encode())
            assert known is not None
            assert str(known.child_id) == family.child_id
        finally:
            await found.stop()


async def test_a_change_reaches_the_index_within_a_second(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    family: FamilyWorld,
    identity: LineIdentity,
) -> None:
    """Through the watcher (the notice, or the poll without one), not a manual refresh."""
    for fields, expected in (({}, family.child_id), ({"event": "stop"}, None)):
        started = time.monotonic()
        await bind(client, carrier, family, **fields)
        while True:
            subject = await identity.subject(V4)
            assert subject is not None
            if (subject.child_id and str(subject.child_id)) == expected:
                break
            assert time.monotonic() - started < 1.5, "the index did not follow"
            await asyncio.sleep(0.02)


async def test_the_index_survives_many_lines(runtime: Runtime, client: httpx.AsyncClient) -> None:
    """A second family and a replaced address: the index holds exactly the live bindings."""
    carrier = await carrier_headers(runtime, "radius")
    first = await build_family(
        client, runtime, carrier, guardian_phone="+77011110000", line="+77071110000"
    )
    second = await build_family(
        client, runtime, carrier, guardian_phone="+77012220000", line="+77072220000"
    )
    found = LineIdentity(runtime)
    await found.start()
    try:
        await bind(client, carrier, first, session_id="a")
        await found.index.refresh()
        await bind(client, carrier, second, session_id="b")  # the pool hands V4 on
        await found.index.refresh()
        subject = await found.subject(V4)
        assert subject is not None
        assert str(subject.child_id) == second.child_id
        assert len(found.index.current) == 1
        await found.index.rebuild()
        assert len(found.index.current) == 1
    finally:
        await found.stop()
