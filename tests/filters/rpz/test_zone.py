"""Category zones of published versions: content, header, errors and the file cache."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dns.rdatatype
import dns.zone
import pytest

from filters.check.errors import NoPublishedVersion
from filters.curation.errors import VersionNotFound
from filters.rpz import service
from filters.rpz.errors import ZoneCategoryNotFound
from filters.rpz.zone import ZoneCounts, host_records
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.filters.rpz.conftest import OPTIONS, cache_in, first_lists, publish

GOLDEN = """\
; RPZ zone of category gambling, blocklist version 1.
; 8 records.
; 1 URL rules left out: a resolver sees names, not paths.
; 1 names left out: IP addresses, or too long for this zone.
$ORIGIN gambling.rpz.child-sim.invalid.
$TTL 300
@ IN SOA localhost. hostmaster.gambling.rpz.child-sim.invalid. 1 3600 600 604800 300
@ IN NS localhost.
*.cards.test CNAME .
casino.test CNAME .
*.casino.test CNAME .
lotto.test CNAME rpz-passthru.
*.lotto.test CNAME .
poker.test CNAME .
safe.casino.test CNAME rpz-passthru.
*.safe.casino.test CNAME rpz-passthru.
"""


async def test_a_category_zone_holds_every_scope_and_action(
    runtime: Runtime, tmp_path: Path
) -> None:
    assert await publish(runtime, first_lists()) == 1
    async with transaction(runtime.sessions) as session:
        zone = await service.category_zone(
            session, cache_in(tmp_path), key="gambling", options=OPTIONS
        )
    text = zone.path.read_text()
    assert text == GOLDEN
    assert (zone.origin, zone.serial) == ("gambling.rpz.child-sim.invalid.", 1)
    parsed = dns.zone.from_text(text, origin=zone.origin, relativize=False)
    soa = parsed.find_rdataset(zone.origin, dns.rdatatype.SOA)[0]
    assert (soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum) == (
        1,
        3600,
        600,
        604800,
        300,
    )
    assert list(zone.records())[:2] == [("*.cards.test", "."), ("casino.test", ".")]


async def test_zones_of_other_categories_and_versions(runtime: Runtime, tmp_path: Path) -> None:
    await publish(runtime, first_lists())
    lists = first_lists()
    lists["drugs"] = ("drugs", [])
    assert await publish(runtime, lists) == 2
    cache = cache_in(tmp_path)
    async with transaction(runtime.sessions) as session:
        old = await service.category_zone(session, cache, key="drugs", options=OPTIONS, version=1)
        new = await service.category_zone(session, cache, key="drugs", options=OPTIONS)
        # A curated category with no source in the version: a zone with no rules.
        empty = await service.category_zone(session, cache, key="adult", options=OPTIONS)
    assert list(old.records()) == [("weed.test", "."), ("*.weed.test", ".")]
    assert "1 3600" in old.path.read_text()
    assert (new.serial, list(new.records())) == (2, [])
    assert (empty.serial, list(empty.records())) == (2, [])
    assert "; 0 records." in empty.path.read_text()


async def test_errors(runtime: Runtime, tmp_path: Path) -> None:
    cache = cache_in(tmp_path)
    async with transaction(runtime.sessions) as session:
        with pytest.raises(NoPublishedVersion):
            await service.category_zone(session, cache, key="gambling", options=OPTIONS)
    await publish(runtime, first_lists())
    async with transaction(runtime.sessions) as session:
        with pytest.raises(ZoneCategoryNotFound):
            await service.category_zone(session, cache, key="nosuch", options=OPTIONS)
        with pytest.raises(VersionNotFound):
            await service.category_zone(session, cache, key="drugs", options=OPTIONS, version=7)
    assert not list((tmp_path / "rpz").glob("*"))


async def test_the_cache_writes_a_zone_once(runtime: Runtime, tmp_path: Path) -> None:
    await publish(runtime, first_lists())
    cache = cache_in(tmp_path)

    async def fetch() -> Path:
        async with transaction(runtime.sessions) as session:
            zone = await service.category_zone(session, cache, key="gambling", options=OPTIONS)
        return zone.path

    paths = await asyncio.gather(*(fetch() for _ in range(5)))
    assert len(set(paths)) == 1
    assert [p.name for p in (tmp_path / "rpz").iterdir()] == [paths[0].name]  # no temp files
    written = paths[0].stat()
    paths[0].write_text(GOLDEN.replace("poker.test", "marker.test"))  # a cached file is reused
    assert "marker.test" in (await fetch()).read_text()
    assert paths[0].stat().st_ino == written.st_ino


def test_names_that_cannot_be_triggers_are_counted() -> None:
    counts = ZoneCounts()
    origin = "gambling.rpz.child-sim.invalid."
    # 221 characters: fits under the origin (255 octets on the wire), its wildcard does not.
    long_name = "b" * 24 + "." + ".".join(["a" * 63] * 3) + ".test"
    assert host_records(long_name, [("subtree", "block")], origin, counts) == [(long_name, ".")]
    assert host_records("2001:db8::1", [("exact", "block")], origin, counts) == []
    assert host_records("x.test", [("url", "block")], origin, counts) == []
    assert (counts.records, counts.unfit_names, counts.url_rules) == (1, 2, 1)
