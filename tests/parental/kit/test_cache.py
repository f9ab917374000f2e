"""The cache: values with their expiry, in process or in Redis; reads of many keys at once,
and over Redis, concurrent reads that go together in one command."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from parental.kit.cache import RedisCache, create_cache

REDIS_URL = os.environ.get("REDIS_URL")


async def test_get_many_gives_each_key_its_value_in_order() -> None:
    cache = create_cache(REDIS_URL)
    prefix = f"test:{uuid.uuid4()}:"
    try:
        await cache.set(prefix + "a", b"1")
        await cache.set(prefix + "c", b"3", ttl_seconds=60)
        keys = [prefix + k for k in ("a", "b", "c", "a")]
        assert await cache.get_many(keys) == [b"1", None, b"3", b"1"]
        assert await cache.get_many([]) == []
    finally:
        await cache.close()


@pytest.mark.skipif(not REDIS_URL, reason="coalescing is Redis's")
async def test_concurrent_reads_go_together_and_each_gets_its_own_values() -> None:
    assert REDIS_URL is not None
    cache = RedisCache(REDIS_URL)
    prefix = f"test:{uuid.uuid4()}:"
    try:
        for n in range(20):
            await cache.set(f"{prefix}{n}", str(n).encode())
        answers = await asyncio.gather(
            *(cache.get_many([f"{prefix}{n}", f"{prefix}missing", f"{prefix}{19 - n}"])
              for n in range(20))
        )  # fmt: skip
        assert answers == [[str(n).encode(), None, str(19 - n).encode()] for n in range(20)]
        assert cache.mgets < 20
        await cache.set(f"{prefix}0", b"changed")  # a read after a write sees it
        assert await cache.get_many([f"{prefix}0"]) == [b"changed"]
    finally:
        await cache.close()


@pytest.mark.skipif(not REDIS_URL, reason="coalescing is Redis's")
async def test_a_failed_read_fails_each_caller_of_its_group() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        results = await asyncio.gather(
            *(cache.get_many(["a"]) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, Exception) for r in results)
    finally:
        await cache.close()


async def test_set_newer_keeps_the_highest_rank_whatever_the_order() -> None:
    cache = create_cache(REDIS_URL)
    key = f"test:{uuid.uuid4()}:latest"
    try:
        assert await cache.set_newer(key, b"t2", rank=2.0, ttl_seconds=60)
        assert not await cache.set_newer(key, b"t1", rank=1.0, ttl_seconds=60)  # late
        assert not await cache.set_newer(key, b"t2 again", rank=2.0, ttl_seconds=60)
        assert await cache.get(key) == b"t2"
        assert await cache.set_newer(key, b"t3", rank=3.0, ttl_seconds=60)
        assert await cache.get(key) == b"t3"
        await cache.delete(key)
        assert await cache.get(key) is None
        assert await cache.set_newer(key, b"t1", rank=1.0, ttl_seconds=60)
        writers = [
            cache.set_newer(key, f"w{n}".encode(), rank=n, ttl_seconds=60) for n in range(20)
        ]
        await asyncio.gather(*writers)
        assert await cache.get(key) == b"w19"
    finally:
        await cache.delete(key)
        await cache.close()
