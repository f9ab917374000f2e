"""``heap.settle``: start-up's objects leave the collector's generations, later garbage does not."""

from __future__ import annotations

import gc
import weakref

from parental.kit import heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_settle_freezes_what_is_alive_and_later_cycles_are_still_collected() -> None:
    kept = _Node()
    threshold = gc.get_threshold()
    try:
        heap.settle()
        assert gc.get_freeze_count() > 0
        frozen = weakref.ref(kept)
        del kept
        gc.collect()
        assert frozen() is not None  # frozen: no collection walks it
        later = _Node()
        collected = weakref.ref(later)
        del later
        gc.collect()
        assert collected() is None
    finally:
        gc.unfreeze()  # the rest of the test run collects as before
        gc.set_threshold(*threshold)


def test_after_settle_a_cycle_is_collected_within_the_young_threshold_of_allocations() -> None:
    threshold = gc.get_threshold()
    try:
        heap.settle()
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
        later = _Node()
        collected = weakref.ref(later)
        del later
        assert collected() is not None  # a cycle: reference counting alone does not free it
        allocated = [[] for _ in range(2 * heap.YOUNG_THRESHOLD)]  # a young collection runs
        assert collected() is None
        assert len(allocated) == 2 * heap.YOUNG_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
