"""A front end without a database: a compiled snapshot, a fixed subject per source address,
the fake upstream on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filters.activity.recorder import ActivityRecorder
from filters.check.router import Subject
from filters.check.service import default_profile
from filters.dns.build import BlockAnswer
from filters.dns.cache import AnswerCache
from filters.dns.frontend import FrontEnd
from filters.dns.upstream import Upstream
from filters.engine.rules import Rule, Scope, SourceRef
from filters.engine.snapshot import SourceRules, compile_snapshot
from filters.engine.store import SnapshotStore
from parental.kit.events import EventBus
from tests.filters.dns.fake_upstream import RECORDS, FakeUpstream

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OPTION_CODE = 65001
BLOCK_V4, BLOCK_V6 = bytes([192, 0, 2, 99]), bytes(15) + b"\x63"
REFUSED_SOURCE = "127.0.0.9"
LISTS = {"drugs": ["weed.test"], "gambling": ["casino.test"], "filter_bypass": ["search.test"]}


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    fake = await FakeUpstream(dict(RECORDS)).start()
    yield fake
    await fake.close()


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    snapshots = SnapshotStore(tmp_path)
    categories = sorted(LISTS)
    sources = [
        SourceRules(SourceRef(key, key, "1"), [key], [Rule(host, Scope.SUBTREE) for host in hosts])
        for key, hosts in LISTS.items()
    ]
    compile_snapshot(sources, categories, snapshots.path_for("1"), version="1")
    snapshots.activate("1")
    return snapshots


FrontFactory = Callable[..., FrontEnd]


@pytest.fixture
def make_front(store: SnapshotStore, upstream: FakeUpstream) -> Iterator[FrontFactory]:
    """A front end over ``store`` and the fake upstream; every source but ``REFUSED_SOURCE``
    gets the default profile."""

    async def identify(
        source: str, line_option: bytes | None, client_subnet: bytes | None
    ) -> Subject | None:
        if line_option is not None and line_option != b"+77071234567":
            raise ValueError("not a line")
        return None if source == REFUSED_SOURCE else Subject(default_profile("Asia/Almaty"))

    made: list[FrontEnd] = []

    def make(*, nxdomain: bool = False, timeout: float = 1.0, cache_size: int = 100) -> FrontEnd:
        front = FrontEnd(
            store=store,
            identify=identify,
            upstream=Upstream([("127.0.0.1", upstream.port)], timeout, AnswerCache(cache_size)),
            activity=ActivityRecorder(EventBus()),
            block=BlockAnswer(nxdomain, BLOCK_V4, BLOCK_V6, 60),
            now=lambda: NOW,
            line_option_code=OPTION_CODE,
        )
        made.append(front)
        return front

    yield make
    for front in made:
        front.upstream.close()
