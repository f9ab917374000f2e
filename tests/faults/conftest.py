"""Servers of our own to break: a Redis and a PostgreSQL cluster on free loopback ports.

Fault tests stop and restart the servers they use. The machine's shared PostgreSQL and Redis
(5432, 6379) serve other test runs at the same time, so they are never touched here: each
test starts its own throwaway server, stops it, starts it again on the same port (clients
reconnect to the address they know), and removes it afterwards. A test is skipped, with the
reason, only where the server's binaries are not installed; in CI that is a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI


def _missing(what: str) -> None:
    message = f"{what} is not installed here: the fault test cannot start its own server"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on port {port} after {timeout} s") from None
            time.sleep(0.02)


class RedisServer:
    """``redis-server`` without persistence on one port, stopped and started at will."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self._process is None, "already running"
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        self._process = subprocess.Popen(  # noqa: S603 - the installed redis-server
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until_listening(self.port)

    def stop(self) -> None:
        """Gone at once, connections and all, as when the server or its host dies."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)
        self._process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server")
    assert binary is not None
    server = RedisServer(binary, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    local = shutil.which("initdb")
    return Path(local).parent if local else None


class PostgresCluster:
    """A throwaway cluster (trust auth, no fsync) in a temporary folder, on its own port.

    PostgreSQL refuses to run as root: as root, the cluster belongs to and runs as the
    ``postgres`` user.
    """

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.data = root / "data"
        self.root = root
        self.port = port
        self._as: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                runuser = None
            if runuser is None:
                _missing("runuser and a postgres user (PostgreSQL refuses to run as root)")
            self._as = [str(runuser), "-u", "postgres", "--"]
            shutil.chown(root, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as, str(self.bindir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            log = self.root / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise AssertionError(f"{tool} failed: {done.stdout}{done.stderr}\n{tail}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N")

    def start(self) -> None:
        # No fsync: the cluster is thrown away, and its commits should not queue on the disk
        # that other test runs share.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "start", "-w", "-t", "30")  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown: open sessions are cut off, as in a restart under load."""
        self._run("pg_ctl", "-D", str(self.data), "stop", "-m", "fast", "-w", "-t", "30")


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    bindir = _postgres_bin()
    if bindir is None:
        _missing("PostgreSQL (initdb)")
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    cluster = PostgresCluster(bindir, root, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError):  # removed below all the same
                cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
