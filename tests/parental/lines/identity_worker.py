# ruff: noqa: T201 - this process speaks to its test over stdout
"""A stand-in DNS front-end process for test_two_processes.py: answers an address per line
with the child id its query would count for, or "nobody".

Run as ``python -m tests.parental.lines.identity_worker`` with the deployment's environment
(``DATABASE_URL``, ``REDIS_URL``, ``PARENTAL_*``).
"""

from __future__ import annotations

import asyncio
import sys

from parental.lines.identity import LineIdentity
from parental.runtime import build_runtime


async def main() -> None:
    runtime = build_runtime()
    identity = LineIdentity(runtime)
    await identity.start()
    print("ready", flush=True)
    try:
        while line := await asyncio.to_thread(sys.stdin.readline):
            subject = await identity.subject(line.strip())
            print(subject.child_id if subject and subject.child_id else "nobody", flush=True)
    finally:
        await identity.stop()
        await runtime.close()


if __name__ == "__main__":
    asyncio.run(main())
