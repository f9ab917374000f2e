# ruff: noqa: T201 - this process speaks to its test over stdout
"""A stand-in DNS front-end process for test_two_processes.py: answers an address per line
with the child id its query would count for, or "nobody"; given "address host", also whether
the subject's profile holds a guardian's entry for the host ("child-id entry" or "child-id -").

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
            address, _, host = line.strip().partition(" ")
            subject = await identity.subject(address)
            answer = str(subject.child_id if subject and subject.child_id else "nobody")
            if host:
                entries = {e.host for e in subject.profile.entries} if subject else set()
                answer += " entry" if host in entries else " -"
            print(answer, flush=True)
    finally:
        await identity.stop()
        await runtime.close()


if __name__ == "__main__":
    asyncio.run(main())
