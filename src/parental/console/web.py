"""What every console page shares: templates, the signed-in staff member, the CSRF and origin
checks of every POST, and errors rendered as pages rather than JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.datastructures import FormData

from parental.console import sessions
from parental.deps import RuntimeDep, SessionDep
from parental.kit.errors import AppError, Forbidden, Unauthorized

HERE = Path(__file__).parent
PREFIX = "/console"

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page_url(path: str, **query: object) -> str:
    """A console URL with the query parameters that are set."""
    kept = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{PREFIX}{path}" + (f"?{urlencode(kept)}" if kept else "")


templates.globals["url"] = _page_url

# What a page says after the change a form made (post/redirect/get carries only the key).
NOTICES = {
    "entry_added": "Entry added to the draft: it takes effect at the next publish.",
    "entry_removed": "Entry removed from the draft: it leaves at the next publish.",
    "entry_moved": "Entry moved: both changes take effect at the next publish.",
    "decided": "Decision saved; an accepted report takes effect at the next publish.",
    "source_added": "Source added.",
    "source_updated": "Source updated.",
    "import_started": "Import started: its progress is shown below.",
    "refresh_started": "Refresh started: its progress is shown below.",
}


def notice_text(key: str | None) -> str | None:
    if not key:
        return None
    number = key.removeprefix("published_")
    if number != key and number.isdigit():
        return f"Version {number} published and in force."
    if key.startswith("decided_") and key.removeprefix("decided_").isdigit():
        return f"{key.removeprefix('decided_')} reports decided."
    return NOTICES.get(key)


class SignInRequired(Unauthorized):
    message = "Sign in to the console."
    keep_changes = True  # an expired session found on the way is deleted


class CsrfRejected(Forbidden):
    message = "The form was not sent by this console (missing or wrong CSRF token, or origin)."


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    signed: sessions.Signed | None = getattr(request.state, "console", None)
    page = templates.get_template(template).render(
        {
            "request": request,
            "staff": signed.staff if signed else None,
            "csrf": signed.csrf if signed else None,
            "path": request.url.path,
            "notice": notice_text(request.query_params.get("notice")),
            **(context or {}),
        }
    )
    # Not the service-wide no-referrer: under it a browser sends "Origin: null" with the
    # page's own forms, and the origin check could not tell them from a sandboxed attacker.
    return HTMLResponse(page, status_code=status_code, headers={"Referrer-Policy": "same-origin"})


def see_other(path: str, **query: object) -> RedirectResponse:
    """Post/redirect/get: after a change, the browser loads the page that shows it."""
    return RedirectResponse(_page_url(path, **query), status_code=303)


def _validation_text(exc: ValidationError | RequestValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        out.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
    return out


class ConsoleRoute(APIRoute):
    """Renders the errors of a console route as a page: a missing session sends the browser to
    the sign-in page, an ``AppError`` keeps its status and message (a 409 stays a 409), and
    invalid form or query values are a 400 page naming the fields. The request's database
    session has already been rolled back when these are caught."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return see_other("/sign-in", next=_local_next(request))
            except AppError as exc:
                page = render(
                    request,
                    "error.html",
                    {"error": exc.code, "messages": [exc.detail]},
                    status_code=exc.status_code,
                )
                if "Retry-After" in exc.headers:  # a lockout or a limit: when to try again
                    page.headers["Retry-After"] = exc.headers["Retry-After"]
                return page
            except (ValidationError, RequestValidationError) as exc:
                return render(
                    request,
                    "error.html",
                    {"error": "InvalidForm", "messages": _validation_text(exc)},
                    status_code=400,
                )

        return handle


def _local_next(request: Request) -> str | None:
    if request.method != "GET":
        return None
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path only, never another site."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//"):
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc and "\\" not in value:
            return value
    return PREFIX + "/"


async def signed_in(request: Request, session: SessionDep, runtime: RuntimeDep) -> sessions.Signed:
    """The console session of the request's cookie, or the sign-in page."""
    token = request.cookies.get(sessions.cookie_name(runtime.settings.behind_tls))
    signed = await sessions.resolve(
        session, token=token, secret=runtime.secret, now=runtime.clock.now()
    )
    if signed is None:
        raise SignInRequired()
    request.state.console = signed
    return signed


SignedIn = Annotated[sessions.Signed, Depends(signed_in)]


def _same_origin(request: Request) -> bool:
    """A POST's Origin (or, without one, Referer) names this host, if the browser sent one."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return True  # not a browser's cross-site form: browsers send Origin with those
    if claimed == "null":
        return False
    return urlsplit(claimed).netloc == request.headers.get("host", "")


async def form_of(
    request: Request, runtime: RuntimeDep, signed: SignedIn
) -> AsyncIterator[FormData]:
    """The POSTed form, once its CSRF token and origin are checked (403 otherwise); its
    uploads' temporary files are closed after the response."""
    form = await request.form()
    try:
        submitted = form.get("csrf")
        if not _same_origin(request) or not sessions.csrf_matches(
            runtime.secret, signed.token, submitted if isinstance(submitted, str) else None
        ):
            raise CsrfRejected()
        yield form
    finally:
        await form.close()


CheckedForm = Annotated[FormData, Depends(form_of)]


def field(form: FormData, name: str) -> str | None:
    """A text field, stripped; None when absent or empty (an upload is not a text field)."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None
