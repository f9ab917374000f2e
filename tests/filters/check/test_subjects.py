"""The filter's remembered subjects: how long they hold, what voids them, and that a subject
read while a change was made is not kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from filters.check.router import Subject
from filters.check.service import default_profile
from filters.check.subjects import ALL, CHANNEL, UNHEARD_SECONDS, SubjectCache, message
from parental.kit.notices import LocalNotices, Subscription

SUBJECT = Subject(default_profile("Asia/Almaty"))
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
ANNA, BOLAT = uuid.uuid4(), uuid.uuid4()


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_subject_holds_for_ttl_seconds_and_until_its_moment() -> None:
    ticks = Ticks()
    cache = SubjectCache(60.0, clock=ticks)
    cache.put(("k", None), SUBJECT, child_id=ANNA, epoch=cache.epoch())
    cache.put(("e", None), SUBJECT, child_id=ANNA, epoch=0, until=NOW + timedelta(minutes=5))
    ticks.now += 59.999
    assert cache.get(("k", None), NOW) is SUBJECT
    assert cache.get(("k", "p"), NOW) is None
    assert cache.get(("e", None), NOW + timedelta(minutes=4, seconds=59)) is SUBJECT
    assert cache.get(("e", None), NOW + timedelta(minutes=5)) is None  # an entry expired
    ticks.now += 0.001
    assert cache.get(("k", None), NOW) is None
    assert len(cache) == 0


def test_a_shorter_ttl_for_one_subject_and_zero_caches_nothing() -> None:
    ticks = Ticks()
    cache = SubjectCache(60.0, clock=ticks)
    cache.put(("line", None), SUBJECT, child_id=None, epoch=0, ttl=1.0)
    ticks.now += 1.0
    assert cache.get(("line", None), NOW) is None
    off = SubjectCache(0)
    off.put(("k", None), SUBJECT, child_id=None, epoch=0)
    assert off.get(("k", None), NOW) is None


def test_forgetting_a_child_drops_only_theirs_and_clear_drops_all() -> None:
    cache = SubjectCache(60)
    cache.put(("a1", None), SUBJECT, child_id=ANNA, epoch=0)
    cache.put(("a2", "p"), SUBJECT, child_id=ANNA, epoch=0)
    cache.put(("b", None), SUBJECT, child_id=BOLAT, epoch=0)
    cache.put(("carrier", None), SUBJECT, child_id=None, epoch=0)
    cache.forget([ANNA])
    assert cache.get(("a1", None), NOW) is None
    assert cache.get(("a2", "p"), NOW) is None
    assert cache.get(("b", None), NOW) is SUBJECT
    assert cache.get(("carrier", None), NOW) is SUBJECT
    cache.clear()
    assert len(cache) == 0


def test_a_subject_read_while_its_child_changed_is_not_kept() -> None:
    cache = SubjectCache(60)
    before = cache.epoch()  # a check starts reading Anna's profile
    cache.forget([ANNA])  # a guardian's edit of it commits meanwhile
    cache.put(("a", None), SUBJECT, child_id=ANNA, epoch=before)
    assert cache.get(("a", None), NOW) is None
    cache.put(("b", None), SUBJECT, child_id=BOLAT, epoch=before)  # not Bolat's change
    assert cache.get(("b", None), NOW) is SUBJECT
    cache.put(("a", None), SUBJECT, child_id=ANNA, epoch=cache.epoch())  # read afresh
    assert cache.get(("a", None), NOW) is SUBJECT
    started = cache.epoch()
    cache.clear()  # everyone's change
    cache.put(("b", None), SUBJECT, child_id=BOLAT, epoch=started)
    cache.put(("c", None), SUBJECT, child_id=None, epoch=started)
    assert len(cache) == 0


def test_a_change_too_old_to_be_remembered_still_refuses_what_was_read_before_it() -> None:
    cache = SubjectCache(60, remember=2)
    before = cache.epoch()
    cache.forget([ANNA])
    cache.forget([uuid.uuid4(), uuid.uuid4()])  # Anna's change is no longer remembered by id
    cache.put(("a", None), SUBJECT, child_id=ANNA, epoch=before)
    assert cache.get(("a", None), NOW) is None


def test_the_oldest_subjects_go_when_full() -> None:
    cache = SubjectCache(60, size=2)
    for key in ("a", "b", "c"):
        cache.put((key, None), SUBJECT, child_id=ANNA, epoch=0)
    assert cache.get(("a", None), NOW) is None
    assert cache.get(("b", None), NOW) is SUBJECT
    cache.forget([ANNA])
    assert len(cache) == 0


def test_notices_forget_children_or_everyone() -> None:
    cache = SubjectCache(60)
    cache.put(("a", None), SUBJECT, child_id=ANNA, epoch=0)
    cache.put(("b", None), SUBJECT, child_id=BOLAT, epoch=0)
    cache.hear(message([ANNA]))
    assert [cache.get(("a", None), NOW), cache.get(("b", None), NOW)] == [None, SUBJECT]
    cache.hear(message(None))
    assert message(None) == f"- {ALL}"
    assert len(cache) == 0
    cache.put(("b", None), SUBJECT, child_id=BOLAT, epoch=cache.epoch())
    cache.hear("- not-a-child-id")  # whatever it meant, nothing kept may be stale
    assert len(cache) == 0


def test_a_cache_does_not_act_on_its_own_notices() -> None:
    cache = SubjectCache(60)
    cache.forget([ANNA])  # the change, in the process that made it
    reading = cache.epoch()
    cache.hear(message([ANNA], origin=cache.origin))  # its notice, heard back
    cache.put(("a", None), SUBJECT, child_id=ANNA, epoch=reading)
    assert cache.get(("a", None), NOW) is SUBJECT


@asynccontextmanager
async def following(cache: SubjectCache, notices: LocalNotices) -> AsyncIterator[None]:
    """``cache`` following ``notices`` while the block runs."""
    listening = await cache.listen(notices)
    assert len(notices) == 1  # subscribed before the follower runs
    try:
        yield
    finally:
        await listening.stop()


async def soon(condition: Callable[[], bool]) -> None:
    """Let the follower run until ``condition`` holds (three seconds at most)."""
    for _ in range(300):
        if condition():
            return
        await asyncio.sleep(0.01)


async def test_following_notices_forgets_what_another_process_changed() -> None:
    notices = LocalNotices()
    cache = SubjectCache(3600)
    async with following(cache, notices):
        cache.put(("a", None), SUBJECT, child_id=ANNA, epoch=cache.epoch())
        await notices.publish(CHANNEL, message([BOLAT, ANNA]))
        await soon(lambda: cache.get(("a", None), NOW) is None)
        assert cache.get(("a", None), NOW) is None
    assert len(notices) == 0  # the subscription was closed


async def test_after_a_gap_in_the_notices_everything_is_read_afresh() -> None:
    notices = LocalNotices()
    cache = SubjectCache(3600)
    async with following(cache, notices):
        cache.put(("a", None), SUBJECT, child_id=ANNA, epoch=cache.epoch())
        notices.gaps += 1  # as RedisNotices counts a reconnection: notices may have been lost
        await soon(lambda: not len(cache))
        assert len(cache) == 0


def test_a_subject_in_use_is_read_again_once_after_half_its_life() -> None:
    ticks = Ticks()
    cache = SubjectCache(600, clock=ticks)
    cache.put(("k", None), SUBJECT, child_id=ANNA, epoch=0)
    ticks.now += 299
    assert not cache.renewing(("k", None))
    ticks.now += 1
    assert cache.renewing(("k", None))  # this caller reads it again in the background
    assert not cache.renewing(("k", None))  # the others answer from it meanwhile
    assert cache.get(("k", None), NOW) is SUBJECT
    assert not cache.renewing(("missing", None))
    cache.put(("k", None), SUBJECT, child_id=ANNA, epoch=0)  # read again: a new life
    assert not cache.renewing(("k", None))
    cache.discard(("k", None))
    assert len(cache) == 0


class Unreachable(LocalNotices):
    async def open(self, channel: str) -> Subscription:
        raise ConnectionError("Redis is down")


async def test_without_notices_subjects_are_kept_a_second() -> None:
    cache = SubjectCache(600)
    listening = await cache.listen(Unreachable())
    assert cache.ttl == UNHEARD_SECONDS  # no change made elsewhere would be heard
    await listening.stop()
