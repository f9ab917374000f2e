"""URL sources reach only public addresses and the private networks an operator allows: URLs
refused when given, names that resolve to private addresses and redirects there refused when
fetched, the address checked is the one connected to (HTTP and TLS), redirects capped.

Servers run on loopback addresses with the real httpx client; a name only a test knows is
resolved by a resolver the test passes in, so the request can only have reached the server
through the address that resolver gave and the checks saw.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address, IPv4Network, IPv6Network, ip_address
from pathlib import Path
from typing import Any

import httpx
import pytest

from filters.curation import refresh, sources
from filters.curation.egress import PUBLIC_ONLY, Egress, IPAddress, Refused, kind_of
from filters.curation.errors import InvalidSource
from filters.curation.models import Source
from filters.curation.refresh import Outcome, RefreshResult
from filters.curation.schemas import SourceCreate, SourceUpdate
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.filters.curation.listserver import LOOPBACK, ListServer, list_server
from tests.parental.factories import staff_headers

TLS = Path(__file__).parent / "tls"
LIST = ["0.0.0.0 malware-one.test", "0.0.0.0 malware-two.test"]
SECOND = Egress((IPv4Network("127.0.0.2/32"),))  # 127.0.0.2 allowed, 127.0.0.1 not


@contextmanager
def serving(
    host: str = "127.0.0.1", tls: ssl.SSLContext | None = None, *, keep_alive: bool = False
) -> Iterator[ListServer]:
    with list_server(host, tls, keep_alive=keep_alive) as server:
        server.publish(LIST, etag='"1"', last_modified="Tue, 24 Nov 2026 10:00:00 GMT")
        yield server


@pytest.fixture
def server() -> Iterator[ListServer]:
    with serving() as running:
        yield running


@pytest.fixture
def second() -> Iterator[ListServer]:
    """A list server on 127.0.0.2."""
    with serving("127.0.0.2") as running:
        yield running


class Resolver:
    """Answers for names only this test knows, in turn; records what it was asked."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        if not self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(a) for a in self.answers.pop(0)]


async def feed(runtime: Runtime, url: str, *, egress: Egress = PUBLIC_ONLY) -> Source:
    async with transaction(runtime.sessions) as session:
        body = SourceCreate(name="feed", category="malware_phishing", kind="url", url=url)  # type: ignore[arg-type]
        return await sources.create(session, body, now=runtime.clock.now(), egress=egress)


async def refresh_with(
    runtime: Runtime, source: Source, client: httpx.AsyncClient, tmp_path: Path
) -> RefreshResult:
    async with transaction(runtime.sessions) as session:
        row = await session.get(Source, source.id)
        assert row is not None
        return await refresh.refresh_source(
            session,
            row,
            client=client,
            actor="system:refresh",
            now=runtime.clock.now(),
            snapshot_path=lambda n: tmp_path / f"{n}.snap",
            time_limit=10.0,
        )


async def fetch(client: httpx.AsyncClient, url: str) -> refresh.Fetched:
    return await refresh.fetch(client, url, etag=None, last_modified=None, time_limit=10.0)


# -- on the way in ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://lists.test/a.txt", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:secret@lists.test/a.txt", "credentials"),
        ("http://127.0.0.1:8080/a.txt", "127.0.0.1 is a loopback address"),
        ("http://[::1]/a.txt", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://10.1.2.3/a.txt", "a private address"),
        ("http://172.16.0.1/a.txt", "a private address"),
        ("http://192.168.1.1/a.txt", "a private address"),
        ("http://100.64.0.1/a.txt", "not a public address"),  # the carrier's own NAT space
        ("http://224.0.0.1/a.txt", "a multicast address"),
        ("http://240.0.0.1/a.txt", "a reserved address"),
        ("http://0.0.0.0/a.txt", "the unspecified address"),
        ("http://[fe80::1]/a.txt", "a link-local address"),
        ("http://[fd00::1]/a.txt", "a private address"),
        ("http://[::ffff:127.0.0.1]/a.txt", "a loopback address"),  # IPv4-mapped
        ("http://[64:ff9b::a00:1]/a.txt", "a private address"),  # NAT64 of 10.0.0.1
        ("http://[2002:a9fe:a9fe::1]/a.txt", "a link-local address"),  # 6to4 of 169.254.169.254
    ],
)
def test_urls_that_show_a_refused_destination_are_refused(url: str, why: str) -> None:
    with pytest.raises(Refused, match=why):
        PUBLIC_ONLY.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://lists.test/a.txt",
        "http://8.8.8.8/a.txt",
        "http://[2606:4700::1111]/a.txt",
        "http://[::ffff:8.8.8.8]/a.txt",
        "http://[64:ff9b::808:808]/a.txt",
    ],
)
def test_public_destinations_pass(url: str) -> None:
    PUBLIC_ONLY.check_url(url)


def test_allowed_networks_let_their_addresses_through_and_only_those() -> None:
    egress = Egress((IPv4Network("10.20.0.0/16"), IPv6Network("fd00:1::/32")))
    for allowed in ("10.20.3.4", "::ffff:10.20.3.4", "fd00:1::5"):
        assert egress.permits(ip_address(allowed)), allowed
    for refused in ("10.21.0.1", "127.0.0.1", "fd00:2::5", "169.254.169.254"):
        assert not egress.permits(ip_address(refused)), refused
        assert kind_of(ip_address(refused)) is not None
    assert kind_of(IPv4Address("93.184.216.34")) is None


async def test_a_source_is_not_created_or_changed_with_a_refused_url(runtime: Runtime) -> None:
    with pytest.raises(InvalidSource, match="link-local"):
        await feed(runtime, "http://169.254.169.254/latest/meta-data/")
    source = await feed(runtime, "https://lists.test/a.txt")
    async with transaction(runtime.sessions) as session:
        row = await session.get(Source, source.id)
        assert row is not None
        for url, why in (
            ("http://10.0.0.5/a.txt", "private"),
            ("https://me:secret@lists.test/a.txt", "credentials"),
        ):
            body = SourceUpdate.model_validate({"url": url})
            with pytest.raises(InvalidSource, match=why):
                await sources.update(session, row, body, now=runtime.clock.now())
        assert row.url == "https://lists.test/a.txt"
        allowed = SourceUpdate.model_validate({"url": "http://127.0.0.1:8080/a.txt"})
        changed = await sources.update(
            session, row, allowed, now=runtime.clock.now(), egress=LOOPBACK
        )
        assert changed == {"url": "http://127.0.0.1:8080/a.txt"}


async def test_the_api_answers_400_invalid_source(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_headers(client, runtime)
    api = "/admin/v1/filter/sources"
    body: dict[str, Any] = {"name": "feed", "category": "drugs", "kind": "url"}
    refused = await client.post(
        api, headers=staff, json={**body, "url": "http://169.254.169.254/latest/meta-data/"}
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "InvalidSource"
    assert "169.254.169.254 is a link-local address" in refused.json()["detail"]
    created = await client.post(api, headers=staff, json={**body, "url": "https://lists.test/"})
    assert created.status_code == 201, created.text
    changed = await client.patch(
        f"{api}/{created.json()['id']}",
        headers=staff,
        json={"url": "http://admin:pw@lists.test/"},
    )
    assert changed.status_code == 400, changed.text
    assert changed.json()["error"] == "InvalidSource"
    again = await client.get(f"{api}/{created.json()['id']}", headers=staff)
    assert again.json()["url"] == "https://lists.test/"


# -- at fetch time ---------------------------------------------------------------------------


async def test_a_name_that_resolves_to_loopback_fails_the_refresh(
    runtime: Runtime, server: ListServer, tmp_path: Path
) -> None:
    source = await feed(runtime, f"http://localhost:{server.port}/list.txt")

    async with refresh.new_client() as client:
        result = await refresh_with(runtime, source, client, tmp_path)

    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert "localhost resolves to" in result.error
    assert "a loopback address" in result.error
    assert server.requests == []
    async with runtime.sessions() as session:
        row = await session.get(Source, source.id)
        assert row is not None
        assert (row.refresh_status, row.last_error) == ("failed", result.error)


async def test_an_allowed_network_is_fetched_from(
    runtime: Runtime, server: ListServer, tmp_path: Path
) -> None:
    source = await feed(runtime, f"http://localhost:{server.port}/list.txt")

    async with refresh.new_client(LOOPBACK) as client:
        result = await refresh_with(runtime, source, client, tmp_path)

    assert result.outcome is Outcome.UPDATED
    assert result.imported is not None
    assert result.imported.added == 2
    assert server.requests[0]["host"] == f"localhost:{server.port}"


async def test_a_redirect_to_loopback_is_refused(
    runtime: Runtime, server: ListServer, second: ListServer, tmp_path: Path
) -> None:
    second.redirect = server.url  # 127.0.0.2 sends the client on to 127.0.0.1
    source = await feed(runtime, second.url, egress=SECOND)

    async with refresh.new_client(SECOND) as client:
        result = await refresh_with(runtime, source, client, tmp_path)

    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert "127.0.0.1 is a loopback address" in result.error
    assert (len(second.requests), len(server.requests)) == (1, 0)

    async with refresh.new_client(LOOPBACK) as client:  # the same redirect, allowed
        assert (await fetch(client, second.url)).data == server.body
    assert len(server.requests) == 1


async def test_redirects_end_after_five(server: ListServer) -> None:
    server.redirect = server.url

    async with refresh.new_client(LOOPBACK) as client:
        with pytest.raises(refresh.FetchFailed, match="TooManyRedirects"):
            await fetch(client, server.url)

    assert len(server.requests) == 1 + refresh.MAX_REDIRECTS


async def test_the_request_goes_to_the_address_that_was_checked(second: ListServer) -> None:
    # The second answer, a rebinding to the metadata service, comes with the next request.
    resolver = Resolver(["127.0.0.2"], ["169.254.169.254"])
    url = f"http://lists.test:{second.port}/list.txt"

    async with refresh.new_client(SECOND, resolve=resolver) as client:
        assert (await fetch(client, url)).data == second.body
        with pytest.raises(refresh.FetchFailed, match=r"resolves to 169\.254\.169\.254"):
            await fetch(client, url)
        with pytest.raises(refresh.FetchFailed, match=r"cannot resolve lists\.test"):
            await fetch(client, url)

    assert resolver.asked == ["lists.test"] * 3
    assert len(second.requests) == 1
    assert second.requests[0]["host"] == f"lists.test:{second.port}"


def tls_server_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "lists.test.pem", TLS / "lists.test.key")
    return context


async def test_tls_is_verified_against_the_name_on_the_checked_address() -> None:
    trusting = ssl.create_default_context(cafile=str(TLS / "ca.pem"))
    # Kept alive: the connection to lists.test must not carry the request for other.test.
    with serving("127.0.0.2", tls_server_context(), keep_alive=True) as tls_server:
        resolver = Resolver(["127.0.0.2"], ["127.0.0.2"])
        async with refresh.new_client(SECOND, resolve=resolver, verify=trusting) as client:
            fetched = await fetch(client, f"https://lists.test:{tls_server.port}/list.txt")
            assert fetched.data == tls_server.body
            # The certificate names lists.test: another name of the same address fails.
            with pytest.raises(refresh.FetchFailed, match="CERTIFICATE_VERIFY_FAILED"):
                await fetch(client, f"https://other.test:{tls_server.port}/list.txt")
        assert [r["host"] for r in tls_server.requests] == [f"lists.test:{tls_server.port}"]
