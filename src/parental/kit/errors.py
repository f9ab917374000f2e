"""Application errors, rendered by one handler as ``{"error": "ClassName", "detail": "..."}``.

The tree::

    AppError                      500
    ├── BadRequest                400
    ├── Unauthorized              401
    ├── Forbidden                 403
    ├── NotFound                  404
    ├── Conflict                  409
    ├── Gone                      410
    ├── PayloadTooLarge           413
    ├── TooManyRequests           429  (carries retry_after seconds)
    └── ServiceUnavailable        503
        └── DatabaseUnavailable   503  (the database restarts or fails over; Retry-After)

Each package subclasses these; the subclass name is the machine-readable ``error`` code.
422 is reserved for request validation, rendered by the same module. Services raise these,
never ``HTTPException``.

An error whose ``keep_changes`` is true leaves the request's database work committed: a
wrong one-time code still counts as an attempt, a reused refresh token still revokes its chain.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class AppError(Exception):
    status_code: ClassVar[int] = 500
    message: ClassVar[str] = "Internal error."
    keep_changes: ClassVar[bool] = False
    # Errors the same check may raise instead: ``error_responses`` declares them with this one.
    declared_with: ClassVar[tuple[type[AppError], ...]] = ()

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or self.message
        self.headers = headers or {}
        super().__init__(self.detail)

    @property
    def code(self) -> str:
        return type(self).__name__

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail}


class BadRequest(AppError):
    status_code = 400
    message = "The request is not valid."


class Unauthorized(AppError):
    status_code = 401
    message = "Authentication is required."

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer", **(headers or {})})


class Forbidden(AppError):
    status_code = 403
    message = "This caller may not do that."


class NotFound(AppError):
    status_code = 404
    message = "Not found."


class Conflict(AppError):
    status_code = 409
    message = "The request conflicts with the current state."


class Gone(AppError):
    status_code = 410
    message = "This no longer exists."


class PayloadTooLarge(AppError):
    status_code = 413
    message = "The request body is too large."


class TooManyRequests(AppError):
    status_code = 429
    message = "Too many requests; try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int = 60):
        self.retry_after = max(1, retry_after)
        super().__init__(detail, headers={"Retry-After": str(self.retry_after)})

    def body(self) -> dict[str, Any]:
        return {**super().body(), "retry_after": self.retry_after}


class ServiceUnavailable(AppError):
    status_code = 503
    message = "A service this request needs is unavailable."


class DatabaseUnavailable(ServiceUnavailable):
    """Raised by no service: the error handlers answer it for a database that cannot be
    reached (``parental.kit.db.database_unreachable``), so a client retries a restart."""

    message = "The database is unavailable for a moment; try again shortly."
    # A restart or a failover takes seconds; a client retrying sooner only adds to the queue.
    RETRY_AFTER_SECONDS = 2

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(self.RETRY_AFTER_SECONDS)})


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(ErrorBody):
    """The body of a 422: which fields were wrong and why."""

    issues: list[ValidationIssue]


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the errors a route may raise."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in [e for error in errors for e in (error, *error.declared_with)]:
        entry = out.setdefault(err.status_code, {"model": ErrorBody, "description": ""})
        names = [n for n in entry["description"].split(", ") if n]
        names.append(err.__name__)
        entry["description"] = ", ".join(sorted(set(names)))
    return out
