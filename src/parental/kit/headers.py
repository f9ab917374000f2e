"""Security headers on every response, as the outermost pure ASGI middleware.

Outermost so that nothing answers without them: the ASGI fast paths (a location read or
upload, a filter check), the body limit's 413, the framework's error pages and its 500. The
header lists are built once; per response the middleware only appends the ones the response
did not set itself (a stream's ``Cache-Control: no-cache``, a page's own policy win).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = tuple[tuple[bytes, bytes], ...]

# JSON answers load nothing and are never framed: the strictest policy there is.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

# FastAPI's /docs and /redoc pages: their scripts, styles, fonts and icon come from these
# CDNs and the page starts Swagger UI with an inline script; the specification is fetched
# from this origin. No personal data is on them.
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; "
    "img-src data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net; "
    "worker-src blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

# The curators' console (server-rendered pages): its own script and style sheet only, no inline
# script or style, forms posted to itself only. Its pages show staff data: never cached.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours


def header_list(*, csp: str, no_store: bool, hsts: bool) -> Headers:
    """The headers one kind of response gets, in ASGI form."""
    pairs = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("content-security-policy", csp),
    ]
    if no_store:
        pairs.append(("cache-control", "no-store"))
    if hsts:
        pairs.append(("strict-transport-security", HSTS))
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs)


class SecurityHeaders:
    """Add ``headers`` to every HTTP response; those under ``private_prefixes`` (answers with
    personal data) also get ``Cache-Control: no-store``; ``by_path`` gives exact paths a
    policy of their own (the documentation pages); ``private_pages`` gives path prefixes a
    policy of their own and ``no-store`` (the console)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str = API_CSP,
        hsts: bool = False,
        private_prefixes: Iterable[str] = (),
        by_path: Mapping[str, str] | None = None,
        private_pages: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self._public = header_list(csp=csp, no_store=False, hsts=hsts)
        self._private = header_list(csp=csp, no_store=True, hsts=hsts)
        self._prefixes = tuple(private_prefixes)
        self._by_path = {
            path: header_list(csp=policy, no_store=False, hsts=hsts)
            for path, policy in (by_path or {}).items()
        }
        self._pages = tuple(
            (prefix, header_list(csp=policy, no_store=True, hsts=hsts))
            for prefix, policy in (private_pages or {}).items()
        )

    def _for(self, scope: Scope) -> Headers:
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path.startswith(self._prefixes):
            return self._private
        for prefix, headers in self._pages:
            if path == prefix or path.startswith(prefix + "/"):
                return headers
        return self._by_path.get(path, self._public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._for(scope)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(name).lower() for name, _ in headers}
                headers.extend(pair for pair in extra if pair[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secured)
