"""HTTP plumbing shared by every router: the error handlers and the request-size limit."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parental.kit.db import DRIVER_UNREACHABLE, database_unreachable
from parental.kit.errors import AppError, DatabaseUnavailable, ValidationErrorBody

log = logging.getLogger(__name__)


def _error_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status, content=body, headers=headers)


def app_error_response(exc: AppError) -> JSONResponse:
    """The response for an ``AppError``, also for ASGI fast paths outside the handlers."""
    return _error_response(exc.status_code, exc.body(), exc.headers)


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    first = issues[0] if issues else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return _error_response(
        422,
        {"error": "ValidationError", "detail": f"{where}: {first['msg']}", "issues": issues},
    )


_HTTP_ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


def _allowed_methods(request: Request) -> str | None:
    """Every method the OpenAPI document has at ``request``'s path (HEAD with GET), or None
    for a path it does not show: FastAPI makes one route per method, and Starlette's 405 names
    only the first route's. Read from the document, as ``_larger_bodies`` is."""
    app = request.app
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        app.state, "allowed_methods", None
    )
    if table is None:
        table = []
        for path, operations in app.openapi().get("paths", {}).items():
            pattern = "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", path)
            )
            methods = {method.upper() for method in operations if method.upper() in _METHODS}
            if "GET" in methods:
                methods.add("HEAD")
            table.append((re.compile(pattern), methods))
        app.state.allowed_methods = table
    path, root = request.scope["path"], request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    literal = [methods for pattern, methods in table if pattern.pattern == re.escape(path)]
    # As in OpenAPI, a path without templates wins over templated ones that match it too.
    matched = literal or [methods for pattern, methods in table if pattern.fullmatch(path)]
    return ", ".join(sorted(set().union(*matched))) or None


_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    name = _HTTP_ERROR_NAMES.get(exc.status_code, "HTTPError")
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    return _error_response(exc.status_code, {"error": name, "detail": str(exc.detail)}, headers)


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    # Also reached by errors raised in middleware (the fast paths), which the handlers of the
    # routes do not see: a database restart is a 503 there too.
    if database_unreachable(exc):
        return _database_unavailable(exc)
    log.exception("unhandled error", exc_info=exc)
    return _error_response(500, {"error": "InternalError", "detail": "Internal error."})


def _database_unavailable(exc: BaseException) -> JSONResponse:
    # One line, no traceback: a restart makes every request in flight fail at once.
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return app_error_response(DatabaseUnavailable())


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    if database_unreachable(exc):
        return _database_unavailable(exc)
    raise exc  # a bug, not an outage: on to the 500 handler, as any other error


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Handled inside the middleware (a 503 then ends the request cleanly); the errors raised
    # while connecting are the OS's or asyncpg's own, hence the classes beside SQLAlchemy's.
    for error in (SQLAlchemyError, ConnectionError, *DRIVER_UNREACHABLE):
        app.add_exception_handler(error, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)


def declare_request_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Show in ``spec`` the errors the handlers above answer for any route: a 422's body is
    ``ValidationErrorBody`` (FastAPI declares its own ``HTTPValidationError``, which this app
    never sends), a body that cannot be decoded at all is a 400 on every route taking one,
    and no parameter is null (``_without_null``)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    body = ValidationErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs", {}))
    schemas[ValidationErrorBody.__name__] = body
    validation = {"$ref": f"#/components/schemas/{ValidationErrorBody.__name__}"}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"]["content"] = {"application/json": {"schema": validation}}
            if "requestBody" in operation:
                _declare_unreadable_body(responses)
            for parameter in operation.get("parameters", []):
                _without_null(parameter.get("schema", {}))
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's, now unused
        if f'"#/components/schemas/{name}"' not in json.dumps(spec):
            schemas.pop(name, None)
    return spec


_ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def _declare_unreadable_body(responses: dict[str, Any]) -> None:
    """The 400 of a body that cannot be decoded, beside a 400 of the route's own body."""
    declared = responses.setdefault("400", {"description": "BadRequest"})
    names = {name for name in declared.get("description", "").split(", ") if name}
    declared["description"] = ", ".join(sorted(names | {"BadRequest"}))
    content = declared.setdefault("content", {}).setdefault("application/json", {})
    schema = content.get("schema")
    if schema is None:
        content["schema"] = _ERROR_BODY
    elif schema != _ERROR_BODY and _ERROR_BODY not in schema.get("anyOf", ()):
        content["schema"] = {"anyOf": [schema, _ERROR_BODY]}


def _without_null(schema: dict[str, Any]) -> None:
    """A path, query or header parameter is a string or absent, never null: FastAPI declares
    an optional one as ``anyOf [..., null]``, which a client could only send as "null"."""
    kinds = [kind for kind in schema.get("anyOf", ()) if kind != {"type": "null"}]
    if "anyOf" in schema and len(kinds) < len(schema["anyOf"]):
        del schema["anyOf"]
        if len(kinds) == 1:
            schema.update(kinds[0])
        else:
            schema["anyOf"] = kinds


LARGER_BODY = "x-max-body-bytes"


def larger_body(max_bytes: int) -> dict[str, Any]:
    """``openapi_extra`` for a route that takes bodies over the app's limit (list imports).

    ``BodySizeLimit`` enforces it for that route alone, and the OpenAPI document shows it.
    """
    return {LARGER_BODY: max_bytes}


_Larger = list[tuple[re.Pattern[str], dict[str, int]]]
_HIDDEN = "larger_hidden_bodies"


def allow_larger_body(app: Any, method: str, path: str, max_bytes: int) -> None:
    """``larger_body`` for a route the OpenAPI document leaves out (a console page's upload):
    ``BodySizeLimit`` lets ``method path`` on ``app`` take up to ``max_bytes``."""
    hidden: list[tuple[str, str, int]] = getattr(app.state, _HIDDEN, [])
    hidden.append((method, path, max_bytes))
    setattr(app.state, _HIDDEN, hidden)


def _larger_bodies(app: Any) -> _Larger:
    """The operations of ``app``'s OpenAPI document that declare ``larger_body``.

    Read from the document, not from the router: the limit a client is shown is the one
    enforced, and FastAPI's routing internals stay out of it.
    """
    found: _Larger = []
    paths: dict[str, dict[str, Any]] = app.openapi().get("paths", {}) if app else {}
    for path, operations in paths.items():
        limits = {
            method.upper(): int(operation[LARGER_BODY])
            for method, operation in operations.items()
            if isinstance(operation, dict) and LARGER_BODY in operation
        }
        if limits:
            found.append((_path_pattern(path), limits))
    # Routes the document leaves out (the console's pages) are declared on the app instead.
    hidden: list[tuple[str, str, int]] = getattr(getattr(app, "state", None), _HIDDEN, [])
    for method, path, max_bytes in hidden:
        found.append((_path_pattern(path), {method.upper(): max_bytes}))
    return found


def _path_pattern(path: str) -> re.Pattern[str]:
    segments = ["[^/]+" if part.startswith("{") else re.escape(part) for part in path.split("/")]
    return re.compile("/".join(segments))


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with a 413, whether declared or streamed.

    A route declared with ``openapi_extra=larger_body(n)`` takes up to ``n`` bytes instead.
    Its limit is looked up only for a body over ``max_bytes``, so other requests pay nothing.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._larger: _Larger | None = None

    def _limit_for(self, scope: Scope) -> int:
        if self._larger is None:
            self._larger = _larger_bodies(scope.get("app"))
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for pattern, limits in self._larger:
            if scope["method"] in limits and pattern.fullmatch(path):
                return max(self.max_bytes, limits[scope["method"]])
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int | None = None  # the route's own, looked up once the default is exceeded
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    limit = self._limit_for(scope)
                if declared < 0 or declared > (limit or self.max_bytes):
                    await self._reject(send, limit or self.max_bytes)
                    return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, limit
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if limit is None:
                        limit = self._limit_for(scope)
                    if received > limit:
                        raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge as exc:
            if not response_started:
                await self._reject(send, exc.max_bytes)

    async def _reject(self, send: Send, max_bytes: int) -> None:
        body = json.dumps(
            {
                "error": "PayloadTooLarge",
                "detail": f"The request body is larger than {max_bytes} bytes.",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` mid-stream; an HTTPException so the framework renders it as 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body is larger than {max_bytes} bytes.")
        self.max_bytes = max_bytes
