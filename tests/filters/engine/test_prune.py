"""Pruning published snapshot files: the version in force, the ones just before it and any
newer one stay; a process that still maps a pruned file keeps answering from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from filters.engine.matcher import decide
from filters.engine.rules import Action, Rule, Scope
from filters.engine.snapshot import Snapshot, SourceRef, SourceRules, compile_snapshot
from filters.engine.store import SnapshotStore

pytestmark = pytest.mark.usefixtures("implementation")  # native and pure Python


def build(store: SnapshotStore, version: str) -> None:
    rules = [Rule(f"v{version}.test", Scope.SUBTREE)]
    source = SourceRules(SourceRef("s", "test", version), ["x"], rules)
    compile_snapshot([source], ["x"], store.path_for(version), version=version)


def publish(store: SnapshotStore, numbers: range) -> None:
    for number in numbers:
        build(store, str(number))
        store.activate(str(number))


def numbered(directory: Path) -> list[int]:
    return sorted(int(p.stem) for p in directory.glob("*.snap") if p.stem.isdigit())


def blocks(snapshot: Snapshot | None, host: str) -> bool:
    assert snapshot is not None
    return decide(snapshot, host, "", enabled=1).action is Action.BLOCK


def test_after_15_versions_the_one_in_force_and_the_10_before_it_remain(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    publish(store, range(1, 16))

    removed = store.prune(10)

    assert [p.name for p in removed] == ["1.snap", "2.snap", "3.snap", "4.snap"]
    assert numbered(tmp_path) == list(range(5, 16))
    assert store.prune(10) == []


def test_the_version_in_force_and_newer_ones_are_never_removed(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    publish(store, range(1, 6))
    build(store, "6")  # compiled by a publish whose commit has not happened yet
    build(store, "nightly")  # not a numbered version: not ours to prune

    store.prune(0)

    assert numbered(tmp_path) == [5, 6]
    assert store.path_for("nightly").is_file()
    assert store.version == "5"
    assert blocks(store.current, "v5.test")


def test_nothing_is_pruned_before_a_numbered_version_is_in_force(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    for name in ("1", "2"):
        build(store, name)
    assert store.prune(0) == []
    build(store, "v1")
    store.activate("v1")
    assert store.prune(0) == []
    assert numbered(tmp_path) == [1, 2]


def test_a_process_on_a_pruned_version_keeps_answering_from_it(tmp_path: Path) -> None:
    writer, reader = SnapshotStore(tmp_path), SnapshotStore(tmp_path)
    publish(writer, range(1, 2))
    assert reader.refresh()
    publish(writer, range(2, 14))

    removed = writer.prune(10)

    assert [p.name for p in removed] == ["1.snap", "2.snap"]
    assert not (tmp_path / "1.snap").exists()
    # Unlinked, still mapped: the reader's lookups go on until it swaps (POSIX semantics).
    assert reader.version == "1"
    assert blocks(reader.current, "v1.test")
    assert reader.refresh()
    assert (reader.version, blocks(reader.current, "v13.test")) == ("13", True)


def test_the_version_this_process_answers_from_stays(tmp_path: Path) -> None:
    writer, reader = SnapshotStore(tmp_path), SnapshotStore(tmp_path)
    publish(writer, range(1, 3))
    assert reader.refresh()
    publish(writer, range(3, 6))  # the reader has not swapped yet: its notice is late

    reader.prune(0)

    assert numbered(tmp_path) == [2, 5]
    assert blocks(reader.current, "v2.test")
