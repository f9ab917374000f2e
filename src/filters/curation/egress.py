"""Where list fetches may go: public addresses, and the private networks an operator allows.

A curator types a source's URL and our servers fetch it from inside the carrier's network.
Unchecked, a source could read the cloud's metadata service (169.254.169.254), an admin page
on 127.0.0.1 or any host of a private range, and the refresh error or the imported rules would
show the answer (server-side request forgery). So:

- when a source is created or its URL changed (``Egress.check_url``), a scheme other than
  http or https, credentials in the URL, or a literal address that is not public is refused;
- at fetch time (``EgressTransport``), every request, the first and each redirect, resolves
  its host once with the event loop's getaddrinfo, is refused if any address is not public,
  and connects to an address it checked, with the original name in the Host header and in TLS
  SNI (so the certificate is still verified against the name). A second, different answer for
  the same name (DNS rebinding) is never asked for, so it cannot move the connection.

"Public" is what ``ipaddress`` calls global and not multicast; IPv6 forms that embed an IPv4
address (mapped, 6to4, NAT64) are judged by that address. ``Egress.private_networks``
permits networks that would otherwise be refused, e.g. an internal mirror of the lists.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import httpx

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
Resolve = Callable[[str, int], Awaitable[list[IPAddress]]]

SCHEMES = {"http": 80, "https": 443}
_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix


class Refused(Exception):
    """A URL or an address list fetches may not go to; ``reason`` says why, for curators."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _embedded(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def kind_of(address: IPAddress) -> str | None:
    """What keeps ``address`` from being public ("a loopback address", ...); None if it is."""
    embedded = _embedded(address)
    if embedded is not None:
        return kind_of(embedded)
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (isinstance(address, IPv6Address) and address.is_site_local, "a site-local address"),
        (not address.is_global, "not a public address"),
    )
    return next((kind for hit, kind in checks if hit), None)


@dataclass(frozen=True)
class Egress:
    """Which addresses list fetches may reach: public ones, and ``private_networks``."""

    private_networks: tuple[IPNetwork, ...] = ()

    def permits(self, address: IPAddress) -> bool:
        if kind_of(address) is None:
            return True
        candidates = [address, *filter(None, [_embedded(address)])]
        return any(a in network for a in candidates for network in self.private_networks)

    def check_address(self, address: IPAddress, host: str) -> None:
        """``Refused`` unless ``address`` (of ``host``, a name or the address itself) is allowed."""
        if self.permits(address):
            return
        what = f"{host} is" if host == str(address) else f"{host} resolves to {address},"
        raise Refused(
            f"{what} {kind_of(address)}; lists are fetched only from public addresses and the "
            "private networks an operator allows."
        )

    def check_url(self, url: str | httpx.URL) -> None:
        """Refuse what the URL itself shows: its scheme, credentials, a literal address."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise Refused(f"not a valid URL ({exc})") from exc
        if parsed.scheme not in SCHEMES:
            raise Refused(f"only http and https URLs are fetched, not {parsed.scheme or 'this'}.")
        if parsed.userinfo:
            raise Refused(
                "a URL with credentials (user:password@) is refused: they would be stored with "
                "the source and shown to every curator."
            )
        try:
            literal = ip_address(parsed.host)
        except ValueError:
            return
        self.check_address(literal, parsed.host)


PUBLIC_ONLY = Egress()


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host``, in the resolver's order, by the event loop's getaddrinfo."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: dict[IPAddress, None] = {}
    for *_, sockaddr in infos:
        found.setdefault(ip_address(sockaddr[0]), None)
    return list(found)


class EgressTransport(httpx.AsyncBaseTransport):
    """Sends each request to an address of its host that ``egress`` permits, resolved once.

    One connection pool per scheme and host name: pools are keyed by the address connected
    to, and a connection opened (and its certificate checked) for one name must not carry
    requests for another name of the same address. ``resolve`` and ``verify`` are there for
    tests (a name only they know, their own certificate authority).
    """

    def __init__(
        self,
        egress: Egress,
        *,
        resolve: Resolve = system_resolve,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.egress = egress
        self._resolve = resolve
        self._verify = verify
        self._pools: dict[tuple[str, str], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        self.egress.check_url(url)
        host = url.raw_host.decode("ascii")
        try:
            addresses = await self._resolve(host, url.port or SCHEMES[url.scheme])
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from exc
        if not addresses:
            raise httpx.ConnectError(f"{host} has no address", request=request)
        for address in addresses:
            self.egress.check_address(address, host)
        pool = self._pool(url.scheme, host)
        failure: httpx.ConnectError | None = None
        for address in addresses:
            pinned = httpx.Request(
                request.method,
                url.copy_with(host=str(address)),
                headers=request.headers,  # Host: the name, as the client set it
                stream=request.stream,
                extensions={**request.extensions, "sni_hostname": host},
            )
            try:
                return await pool.handle_async_request(pinned)
            except httpx.ConnectError as exc:  # the next address may answer
                failure = exc
        assert failure is not None
        raise failure

    def _pool(self, scheme: str, host: str) -> httpx.AsyncHTTPTransport:
        key = (scheme, host)
        if key not in self._pools:
            self._pools[key] = httpx.AsyncHTTPTransport(verify=self._verify, trust_env=False)
        return self._pools[key]

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
