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
