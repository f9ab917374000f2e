"""Publishing a snapshot reaches every worker process, with Redis notices or without."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from filters.engine.rules import Rule, Scope
from filters.engine.snapshot import SourceRef, SourceRules, compile_snapshot
from filters.engine.store import SnapshotStore
from parental.kit.notices import create_notices
from tests.conftest import REDIS_URL
from tests.processes import LineProcess

pytestmark = pytest.mark.usefixtures("implementation")  # native and pure Python


def build(store: SnapshotStore, version: str, blocked: list[str]) -> None:
    rules = [Rule(host, Scope.SUBTREE) for host in blocked]
    source = SourceRules(SourceRef("s", "test", version), ["x"], rules)
    compile_snapshot([source], ["x"], store.path_for(version), version=version)


class Worker(LineProcess):
    """``tests.filters.engine.snapshot_worker`` on ``directory``, with Redis when the run has it."""

    def __init__(self, directory: Path) -> None:
        args = [sys.executable, "-m", "tests.filters.engine.snapshot_worker", str(directory)]
        super().__init__([*args, REDIS_URL] if REDIS_URL else args)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started = [Worker(tmp_path), Worker(tmp_path)]
    yield started
    for worker in started:
        worker.stop()


async def test_two_workers_swap_to_each_published_version(
    tmp_path: Path, workers: list[Worker]
) -> None:
    store = SnapshotStore(tmp_path)
    notices = create_notices(REDIS_URL)
    try:
        assert [w.ask("a.test") for w in workers] == ["none -", "none -"]
        build(store, "v1", ["a.test"])
        await store.publish("v1", notices)
        for worker in workers:
            worker.wait_for("www.a.test", "block v1")

        build(store, "v2", ["b.test"])
        await store.publish("v2", notices)
        delays = [worker.wait_for("a.test", "allow v2") for worker in workers]
        assert [w.ask("b.test") for w in workers] == ["block v2", "block v2"]
        print(f"swap seen after {max(delays) * 1000:.0f} ms")  # noqa: T201
    finally:
        await notices.close()


def test_a_broken_version_is_not_swapped_in(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    build(store, "v1", ["a.test"])
    store.activate("v1")
    store.path_for("v2").write_bytes(b"garbage")
    (tmp_path / "CURRENT").write_text("v2\n")
    assert store.refresh() is False
    assert store.version == "v1"
    with pytest.raises(FileNotFoundError):
        store.activate("v3")
    with pytest.raises(ValueError, match="valid"):
        store.path_for("../escape")
