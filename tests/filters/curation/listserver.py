"""A list server on 127.0.0.1 for refresh tests: a real socket, so the real httpx client runs.

It serves one list with an ETag and a Last-Modified, answers 304 to a request carrying either
validator, and can be told to fail: an error status, or hanging until the client gives up. It
can also listen on another loopback address, redirect every request, or speak TLS.

Sources may reach a loopback address only when it is allowed: ``LOOPBACK`` allows them all.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Network

from filters.curation.egress import Egress

LOOPBACK = Egress((IPv4Network("127.0.0.0/8"),))


@dataclass
class ListServer:
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200  # anything but 200 is sent as an error with that status
    hang: bool = False  # wait (until the server stops) instead of answering
    requests: list[dict[str, str]] = field(default_factory=list)  # headers of each request
    host: str = "127.0.0.1"
    redirect: str | None = None  # answer every request with a 302 to this location
    tls: ssl.SSLContext | None = None
    keep_alive: bool = False  # HTTP/1.1, connections kept open; HTTP/1.0 closes each one
    port: int = 0
    _release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/list.txt"

    def publish(self, lines: list[str], *, etag: str, last_modified: str) -> None:
        """Serve a new version of the list with new validators."""
        self.body = ("\n".join(lines) + "\n").encode()
        self.etag, self.last_modified = etag, last_modified

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if server.keep_alive else "HTTP/1.0"

            def do_GET(self) -> None:
                server.requests.append({k.lower(): v for k, v in self.headers.items()})
                if server.hang:
                    server._release.wait(30)
                    return
                if server.redirect is not None:
                    self.send_response(302)
                    self.send_header("Location", server.redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if server.status != 200:
                    self.send_error(server.status)
                    return
                match_etag = server.etag and self.headers.get("If-None-Match") == server.etag
                match_date = (
                    server.last_modified
                    and self.headers.get("If-Modified-Since") == server.last_modified
                )
                if match_etag or match_date:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(server.body)))
                if server.etag:
                    self.send_header("ETag", server.etag)
                if server.last_modified:
                    self.send_header("Last-Modified", server.last_modified)
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[ListServer]:
        httpd = ThreadingHTTPServer((self.host, 0), self._handler())
        httpd.daemon_threads = True
        if self.tls is not None:
            httpd.socket = self.tls.wrap_socket(httpd.socket, server_side=True)
        self.port = httpd.server_address[1]
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._release.set()
            httpd.shutdown()
            httpd.server_close()
            thread.join()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/list.txt"


@contextmanager
def list_server(
    host: str = "127.0.0.1", tls: ssl.SSLContext | None = None, *, keep_alive: bool = False
) -> Iterator[ListServer]:
    with ListServer(host=host, tls=tls, keep_alive=keep_alive).running() as server:
        yield server
