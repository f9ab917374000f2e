"""``parental blockpage`` as deployed: the command in its own process on a free loopback port,
on this test's database and data directory, asked over real HTTP the way a browser sent to the
block page's address asks (``Host`` is the blocked name)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from parental.runtime import Runtime
from tests.parental.test_blockpage import publish_blocked
from tests.processes import app_environment

PARENTAL = str(Path(sys.executable).parent / "parental")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_until_serving(process: asyncio.subprocess.Process, base: str) -> None:
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=1) as client:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError(f"parental blockpage exited with {process.returncode}")
            try:
                await client.get("/")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError("parental blockpage did not start listening")


@pytest.fixture
async def blockpage(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``parental blockpage`` started after a publish; on SIGTERM the command must
    finish its shutdown (uvicorn then re-raises the signal, so the status is -SIGTERM)."""
    await publish_blocked(runtime)
    port = free_port()
    log = tmp_path / "blockpage.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            PARENTAL,
            "blockpage",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            env=app_environment(runtime.kit.data_dir, database_url),
            stderr=output,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_serving(process, base)
        async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=10) as client:
            yield client
    finally:
        if process.returncode is None:
            process.terminate()
        returncode = await process.wait()
    logged = log.read_text(encoding="utf-8")
    assert returncode in (0, -signal.SIGTERM), logged
    assert "Application shutdown complete" in logged
    assert "Traceback" not in logged


async def test_the_parental_blockpage_command(blockpage: httpx.AsyncClient) -> None:
    """One process for every check: starting it costs seconds."""
    blocked = {"Host": "pills.test"}
    kk = await blockpage.get("/", headers=blocked)
    ru = await blockpage.get("/a/path?q=1", headers=blocked | {"Accept-Language": "ru-RU,ru;q=0.9"})
    en = await blockpage.get("/", headers=blocked | {"Accept-Language": "en-GB,en;q=0.8"})
    for page in (kk, ru, en):
        assert page.status_code == 403
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert '<span class="host">pills.test</span>' in page.text
        assert "tel:150" not in page.text
    assert '<html lang="kk">' in kk.text
    assert "Есірткі" in kk.text
    assert '<html lang="ru">' in ru.text
    assert "Наркотики" in ru.text
    assert '<html lang="en">' in en.text
    assert "Drugs" in en.text

    self_harm = await blockpage.get("/", headers={"Host": "cut.test", "Accept-Language": "ru"})
    assert self_harm.status_code == 403
    assert '<a href="tel:150">150</a>' in self_harm.text
    assert "Национальный телефон доверия" in self_harm.text

    # Asked by address (compose's health check): no blocked name, the page about the filter.
    about = await blockpage.get("/")
    assert about.status_code == 200
    assert '<html lang="kk">' in about.text
    assert "pills.test" not in about.text
