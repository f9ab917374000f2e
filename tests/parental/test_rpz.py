"""``/v1/filter/rpz``: zones over HTTP for the carrier's resolvers, and ``filters export-rpz``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dns.zone
import httpx

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.filters.rpz.conftest import first_lists, publish
from tests.filters.rpz.test_zone import GOLDEN
from tests.parental.factories import FamilyWorld
from tests.parental.test_cli import ainvoke, cli_env

__all__ = ["cli_env"]  # the fixture, used by name below
ZONE = "/v1/filter/rpz/gambling.zone"


async def test_a_category_zone_with_its_version_as_etag(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], staff: dict[str, str]
) -> None:
    nothing = await client.get(ZONE, headers=carrier)
    assert (nothing.status_code, nothing.json()["error"]) == (503, "NoPublishedVersion")
    await publish(runtime, first_lists())
    for headers in (carrier, staff):
        response = await client.get(ZONE, headers=headers)
        assert response.status_code == 200, response.text
        assert response.text == GOLDEN
        assert response.headers["content-type"].startswith("text/dns")
        assert response.headers["etag"] == '"1"'
    same = await client.get(ZONE, headers={**carrier, "If-None-Match": '"1"'})
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", '"1"')
    lists = first_lists()
    lists["casinos"] = ("gambling", [])
    await publish(runtime, lists)
    changed = await client.get(ZONE, headers={**carrier, "If-None-Match": '"1"'})
    assert (changed.status_code, changed.headers["etag"]) == (200, '"2"')
    assert "casino.test CNAME ." in changed.text
    assert "poker.test" not in changed.text
    old = await client.get(ZONE, params={"version": 1}, headers=carrier)
    assert (old.text, old.headers["etag"]) == (GOLDEN, '"1"')


async def test_unknown_categories_and_versions_and_callers(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], family: FamilyWorld
) -> None:
    await publish(runtime, first_lists())
    for url, params, status, error in (
        ("/v1/filter/rpz/nosuch.zone", {}, 404, "ZoneCategoryNotFound"),
        (ZONE, {"version": 9}, 404, "VersionNotFound"),
        (ZONE, {"version": 0}, 422, "ValidationFailed"),
        ("/v1/filter/rpz/Bad-Key.zone", {}, 422, "ValidationFailed"),
    ):
        response = await client.get(url, params=params, headers=carrier)
        assert response.status_code == status, response.text
        if status == 404:
            assert response.json()["error"] == error
    # A child's device may check names, not download every list.
    device = await client.get(ZONE, headers=family.device_headers)
    assert (device.status_code, device.json()["error"]) == (401, "InvalidZoneCaller")
    guardian = await client.get(ZONE, headers=family.guardian.headers)
    assert guardian.status_code == 401


async def test_a_profile_zone_holds_the_guardians_own_entries(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    family: FamilyWorld,
    other_family: FamilyWorld,
    clock: FrozenClock,
) -> None:
    guardian = family.guardian.headers
    profile = (
        await client.get(f"/v1/children/{family.child_id}/filter-profile", headers=guardian)
    ).json()
    for body in (
        {"host": "chess.test", "action": "allow"},
        {"host": "games.test", "action": "block", "subdomains": False},
        {"host": "later.test", "action": "allow", "expires_at": "2026-11-25T10:00:00Z"},
    ):
        created = await client.post(
            f"/v1/children/{family.child_id}/filter-profile/entries", headers=guardian, json=body
        )
        assert created.status_code == 201, created.text
    url = f"/v1/filter/rpz/profiles/{profile['id']}.zone"
    response = await client.get(url, headers=carrier)
    assert response.status_code == 200, response.text
    origin = f"{profile['id']}.profile.rpz.child-sim.invalid."
    zone = dns.zone.from_text(response.text, origin=origin)
    records = {n.to_text(): r[0].to_text() for n, r in zone.iterate_rdatasets("CNAME")}
    assert records == {
        "chess.test": "rpz-passthru.",
        "*.chess.test": "rpz-passthru.",
        "games.test": ".",
        "later.test": "rpz-passthru.",
        "*.later.test": "rpz-passthru.",
    }
    etag = response.headers["etag"]
    cached = await client.get(url, headers={**carrier, "If-None-Match": etag})
    assert cached.status_code == 304
    clock.advance(timedelta(minutes=61))
    expired = await client.get(url, headers={**carrier, "If-None-Match": etag})
    assert expired.status_code == 200
    assert "later.test" not in expired.text
    serial = dns.zone.from_text(expired.text, origin=origin).get_soa().serial
    assert serial == int(runtime.clock.now().timestamp()) - 60  # the entry's expiry
    for missing in ("00000000-0000-4000-8000-000000000000",):
        gone = await client.get(f"/v1/filter/rpz/profiles/{missing}.zone", headers=carrier)
        assert (gone.status_code, gone.json()["error"]) == (404, "ProfileNotFound")
    # A guardian or a device never reaches profile zones, not even their own child's.
    for headers in (family.guardian.headers, other_family.device_headers):
        assert (await client.get(url, headers=headers)).status_code == 401


async def test_export_rpz(cli_env: str, runtime: Runtime, tmp_path: Path) -> None:
    none = await ainvoke("filters", "export-rpz", "--output", str(tmp_path / "out"))
    assert none.exit_code == 1
    assert "NoPublishedVersion" in none.output
    await publish(runtime, first_lists())
    out = tmp_path / "zones"
    every = await ainvoke("filters", "export-rpz", "--output", str(out))
    assert every.exit_code == 0, every.output
    assert (out / "gambling.zone").read_text() == GOLDEN
    assert {p.name for p in out.iterdir()} >= {"gambling.zone", "drugs.zone", "adult.zone"}
    one = tmp_path / "one.zone"
    single = await ainvoke(
        "filters", "export-rpz", "--category", "gambling", "--version", "1", "--output", str(one)
    )
    assert single.exit_code == 0, single.output
    assert one.read_text() == GOLDEN
    assert "gambling.rpz.child-sim.invalid. serial 1" in single.output
    unknown = await ainvoke("filters", "export-rpz", "--category", "nosuch", "--output", str(out))
    assert unknown.exit_code == 1
    assert "ZoneCategoryNotFound" in unknown.output
