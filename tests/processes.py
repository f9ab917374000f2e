"""Other processes a test starts: the environment a deployed process reads, and a child
process that answers one line on stdout for each line it is sent."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.conftest import REDIS_URL, TEST_SECRET

REPO = Path(__file__).parents[1]


def app_environment(data_dir: Path, database_url: str) -> dict[str, str]:
    """The environment of a ``parental`` process on this test's data directory and database."""
    env = {
        **os.environ,
        "PARENTAL_ENVIRONMENT": "test",
        "PARENTAL_DATA_DIR": str(data_dir),
        "PARENTAL_SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
    }
    env.pop("REDIS_URL", None)
    if REDIS_URL:
        env["REDIS_URL"] = REDIS_URL
    return env


class LineProcess:
    """A child process that prints ``ready``, then answers each line it reads with one line."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            args, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, line: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.readline()

    def wait_for(self, line: str, expected: str, timeout: float = 10.0) -> float:
        """Seconds until the process answers ``expected`` to ``line``."""
        start = time.monotonic()
        while (answer := self.ask(line)) != expected:
            if time.monotonic() - start > timeout:
                raise AssertionError(f"still {answer!r}, wanted {expected!r}")
            time.sleep(0.01)
        return time.monotonic() - start

    def stop(self) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=20)
        self.process.stdout.close()
