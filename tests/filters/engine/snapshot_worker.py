# ruff: noqa: T201 - this process speaks to its test over stdout
"""A stand-in worker process for test_store.py: answers "host" lines with "action version".

Run as ``python -m tests.filters.engine.snapshot_worker DIRECTORY [REDIS_URL]``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from filters.engine.matcher import decide
from filters.engine.store import SnapshotStore
from parental.kit.notices import RedisNotices


async def main(directory: Path, redis_url: str | None) -> None:
    store = SnapshotStore(directory)
    store.refresh()
    notices = RedisNotices(redis_url) if redis_url else None
    subscription = await store.open_notices(notices)
    watcher = asyncio.create_task(store.watch(subscription))
    print("ready", flush=True)
    try:
        while line := await asyncio.to_thread(sys.stdin.readline):
            snapshot = store.current
            if snapshot is None:
                print("none -", flush=True)
                continue
            decision = decide(snapshot, line.strip(), "", enabled=1)
            print(f"{decision.action} {snapshot.version}", flush=True)
    finally:
        watcher.cancel()
        if subscription is not None:
            await subscription.close()
        if notices is not None:
            await notices.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))
