"""The console end to end in headless Chromium (Debian's package, driven by Playwright): sign
in with a one-time code, look a name up, accept a report, publish, see the verdict change, roll
back and see it change back. The app runs under uvicorn in its own process on the test's
database; screenshots of the main pages are saved outside the repository and their directory
printed (set CONSOLE_SCREENSHOTS to choose it, e.g. for CI artifacts)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from parental.admin import totp
from parental.kit.settings import KitSettings
from parental.runtime import Runtime
from tests.conftest import IN_CI
from tests.console.helpers import Enrolled, create_staff
from tests.parental.factories import STAFF_PASSWORD, publish_lists
from tests.parental.test_two_workers import Worker

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
    if IN_CI:
        raise RuntimeError(reason)  # CI must run the browser tests, never skip them
    pytest.skip(reason, allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def server(kit_settings: KitSettings, database_url: str) -> Iterator[Worker]:
    """The app under uvicorn on a free loopback port, on this test's database and data."""
    worker = Worker(kit_settings.data_dir, database_url)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("CONSOLE_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "console-screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nconsole screenshots: {directory}")  # noqa: T201 - where to find the artifacts
    return directory


def _code(staff: Enrolled) -> str:
    # The server runs on the system clock, so the code is the one an app shows now.
    return totp.code_at(staff.secret, totp.step_of(datetime.now(UTC)))


async def _look_up(page: Page, base: str, target: str) -> str:
    await page.goto(f"{base}/console/lookup")
    await page.get_by_label("Name or URL").fill(target)
    await page.get_by_role("button", name="Look up").click()
    verdict = page.locator('tr[data-profile="default"] td.verdict')
    await expect(verdict, await page.locator("main").inner_text()).to_be_visible()
    return (await verdict.inner_text()).strip()


async def test_a_curator_blocks_a_reported_name_publishes_and_rolls_back(
    server: Worker, runtime: Runtime, browser: Browser, screenshots: Path
) -> None:
    staff = await create_staff(runtime)
    assert staff is not None
    first = await publish_lists(runtime, {"gambling": ["casino.test"]})
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as api:
        filed = await api.post(
            "/v1/filter/reports",
            json={"kind": "should_be_blocked", "target": "https://bets.test/"},
        )
    assert filed.status_code == 202, filed.text
    base = server.base

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the rollback asks to confirm
    problems: list[str] = []  # policy violations and script errors (not a 401 page's status)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )

    # Signing in: a wrong code first, then the right one.
    await page.goto(f"{base}/console/")
    await expect(page).to_have_url(re.compile(r"/console/sign-in"))
    await page.get_by_label("Username").fill(staff.username)
    await page.get_by_label("Password").fill(STAFF_PASSWORD)
    right = _code(staff)
    await page.get_by_label("One-time code").fill("000000" if right != "000000" else "111111")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Wrong username, password")
    await page.screenshot(path=screenshots / "sign-in.png", full_page=True)
    await page.get_by_label("Password").fill(STAFF_PASSWORD)
    await page.get_by_label("One-time code").fill(_code(staff))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    await page.screenshot(path=screenshots / "dashboard.png", full_page=True)

    assert await _look_up(page, base, "bets.test") == "allow"
    assert await _look_up(page, base, "www.casino.test") == "block"
    await expect(
        page.get_by_role("heading", name=re.compile("History of casino.test"))
    ).to_be_visible()
    await page.screenshot(path=screenshots / "lookup.png", full_page=True)

    # The review queue: accept the report into gambling.
    await page.get_by_role("link", name="Review queue", exact=True).click()
    report = page.locator("article.report", has_text="bets.test")
    await expect(report).to_contain_text("block page")
    await page.screenshot(path=screenshots / "review-queue.png", full_page=True)
    await report.get_by_label("Category").select_option("gambling")
    await report.get_by_label("Note").fill("A betting site.")
    await report.get_by_role("button", name=re.compile("^Accept")).click()
    await expect(page.get_by_role("status")).to_contain_text("Decision saved")

    # Publish, and the verdict changes.
    await page.get_by_role("link", name="Versions", exact=True).click()
    await expect(page.locator("ul.compact")).to_contain_text("bets.test")
    await page.get_by_label("Note").fill("Reports of the week")
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Version {first + 1} published")
    await page.screenshot(path=screenshots / "versions.png", full_page=True)
    assert await _look_up(page, base, "bets.test") == "block"

    await page.goto(f"{base}/console/versions/{first + 1}/diff")
    await expect(page.locator("table.added")).to_contain_text("bets.test")
    await page.screenshot(path=screenshots / "diff.png", full_page=True)

    # Roll back to the first version, and the verdict changes back.
    await page.get_by_role("link", name="Versions", exact=True).click()
    await page.get_by_role("button", name=f"Roll back to {first}").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Version {first + 2} published")
    assert await _look_up(page, base, "bets.test") == "allow"

    for name, path in [("entries", "/entries"), ("sources", "/sources"), ("activity", "/activity")]:
        await page.goto(f"{base}/console{path}")
        await page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    await expect(page.locator("main")).to_contain_text("curation.version_rolled_back")

    # Keyboard: the skip link is the first stop and leads to the content.
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    # A phone: one column, nothing wider than the screen.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=await context.storage_state()
    )
    small = await phone.new_page()
    await small.goto(f"{base}/console/")
    await expect(small.get_by_role("heading", name="Dashboard")).to_be_visible()
    overflow = await small.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    await small.screenshot(path=screenshots / "dashboard-phone.png", full_page=True)
    await phone.close()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/console/sign-in"))
    await page.goto(f"{base}/console/versions")
    await expect(page).to_have_url(re.compile(r"/console/sign-in"))
    assert problems == []  # no CSP violation or script error in the browser's console
    await context.close()


class SlowList:
    """A list server on 127.0.0.1 that holds its answer until released: the import stays in
    its fetching phase, with its progress on the page, for as long as the test needs."""

    def __init__(self, body: bytes) -> None:
        self.release = threading.Event()
        slow = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                slow.release.wait(10)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/list.txt"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fetching_server(
    kit_settings: KitSettings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Worker]:
    """``server``, allowed to fetch lists from loopback addresses (the slow list's)."""
    monkeypatch.setenv("PARENTAL_CURATION_SOURCE_PRIVATE_NETWORKS", '["127.0.0.0/8"]')
    worker = Worker(kit_settings.data_dir, database_url)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


async def test_a_curator_watches_an_import_run_then_reads_its_report(
    fetching_server: Worker, runtime: Runtime, browser: Browser, screenshots: Path, tmp_path: Path
) -> None:
    staff = await create_staff(runtime)
    assert staff is not None
    lines = 3000
    listed = "".join(f"0.0.0.0 host-{n}.test\n" for n in range(lines)).encode()
    slow = SlowList(listed)
    base = fetching_server.base
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        await page.goto(f"{base}/console/")
        await page.get_by_label("Username").fill(staff.username)
        await page.get_by_label("Password").fill(STAFF_PASSWORD)
        await page.get_by_label("One-time code").fill(_code(staff))
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

        await page.get_by_role("link", name="Sources", exact=True).click()
        await page.get_by_label("Name", exact=True).fill("Malware feed")
        await page.get_by_role("textbox", name=re.compile("^URL")).fill(slow.url)
        await page.get_by_role("button", name="Add source").click()
        await expect(page.get_by_role("heading", name="Source Malware feed")).to_be_visible()

        # A refresh: the page shows it running while the list server holds its answer.
        await page.get_by_role("button", name="Fetch from the URL now").click()
        job = page.locator("#import-job")
        await expect(job.get_by_role("status")).to_have_text("Fetching the list from its URL…")
        await expect(job.get_by_label(re.compile("^Progress"))).to_be_visible()
        await expect(job.get_by_role("link", name="Refresh")).to_be_hidden()  # script polls
        await page.screenshot(path=screenshots / "import-running.png", full_page=True)
        slow.release.set()
        # ... then its report, without the page being loaded again.
        await expect(job.get_by_role("status")).to_contain_text(
            f"Refresh done (updated): {lines} added, 0 removed.", timeout=10_000
        )
        await expect(job).to_contain_text(f"Format hosts: {lines} lines read, {lines} accepted")
        await expect(page.get_by_role("status").first).to_contain_text("Refresh started")

        # An upload of a few thousand lines: progress, then the report.
        upload = tmp_path / "list.txt"
        upload.write_text("".join(f"site-{n}.test\n" for n in range(lines)) + "not a name\n")
        await page.get_by_label("List file").set_input_files(upload)
        await page.locator("#i-format").select_option("domains")
        await page.get_by_role("button", name="Upload and import").click()
        await expect(job.get_by_role("status")).to_contain_text(
            f"Import done: {lines} added, {lines} removed.", timeout=10_000
        )
        await expect(job).to_contain_text(f"{lines + 1} lines read, {lines} accepted")
        await expect(job.locator("table")).to_contain_text("not a name")
        await page.screenshot(path=screenshots / "import-report.png", full_page=True)
        await page.goto(f"{base}/console/activity")
        await expect(page.locator("main")).to_contain_text("curation.source_imported")
        await expect(page.locator("main")).to_contain_text("curation.source_refreshed")
        assert problems == []
    finally:
        slow.stop()
        await context.close()
