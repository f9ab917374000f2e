"""The subject cache of the framework-free check path: expiry, size bound, clearing."""

from __future__ import annotations

from filters.check.fast import SubjectCache
from filters.check.router import Subject
from filters.check.service import default_profile

SUBJECT = Subject(default_profile("Asia/Almaty"))


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_ttl() -> None:
    ticks = Ticks()
    cache = SubjectCache(1.0, clock=ticks)
    cache.put(("k", None), SUBJECT)
    ticks.now += 0.999
    assert cache.get(("k", None)) is SUBJECT
    assert cache.get(("k", "p")) is None
    ticks.now += 0.001
    assert cache.get(("k", None)) is None


def test_zero_ttl_caches_nothing_and_clear_forgets_everything() -> None:
    off = SubjectCache(0)
    off.put(("k", None), SUBJECT)
    assert off.get(("k", None)) is None
    cache = SubjectCache(5)
    cache.put(("a", None), SUBJECT)
    cache.put(("b", None), SUBJECT)
    cache.clear()
    assert cache.get(("a", None)) is None
    assert cache.get(("b", None)) is None


def test_the_oldest_entries_go_when_full() -> None:
    cache = SubjectCache(60, size=2)
    for key in ("a", "b", "c"):
        cache.put((key, None), SUBJECT)
    assert cache.get(("a", None)) is None
    assert cache.get(("b", None)) is SUBJECT
    assert cache.get(("c", None)) is SUBJECT
