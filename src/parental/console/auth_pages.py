"""Signing in (password and one-time code) and out of the console."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from parental.admin import service as staff_accounts
from parental.admin.errors import (
    InvalidSecondFactor,
    InvalidStaffCredentials,
    SecondFactorNotEnrolled,
    SecondFactorRequired,
)
from parental.audit import service as audit
from parental.console import sessions
from parental.console.web import (
    PREFIX,
    CheckedForm,
    ConsoleRoute,
    CsrfRejected,
    SignedIn,
    field,
    render,
    safe_next,
    see_other,
)
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.kit.security import new_token
from parental.runtime import Runtime

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# Before there is a session, the sign-in form's CSRF token is tied to this cookie instead
# (so another site cannot sign a browser in to an account of its choosing).
PRE_COOKIE = "console_pre"


def _pre_token(request: Request) -> str | None:
    token = request.cookies.get(PRE_COOKIE)
    return token if token and len(token) <= 128 else None


@router.get("/sign-in")
async def show_sign_in(request: Request, runtime: RuntimeDep) -> Response:
    """The sign-in form."""
    pre = _pre_token(request) or new_token("pre", 24)
    response = render(
        request,
        "sign_in.html",
        {
            "pre_csrf": sessions.csrf_token(runtime.secret, pre),
            "next": safe_next(request.query_params.get("next")),
        },
    )
    response.set_cookie(
        PRE_COOKIE,
        pre,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=runtime.settings.behind_tls,
        max_age=3600,
    )
    return response


@router.post("/sign-in")
async def sign_in(
    request: Request, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> Response:
    """Check the password and one-time code, open a session and set its cookie."""
    async with request.form() as form:
        return await _sign_in(request, form, session, runtime, ip)


async def _sign_in(
    request: Request, form: FormData, session: AsyncSession, runtime: Runtime, ip: str
) -> Response:
    pre = _pre_token(request)
    submitted = form.get("csrf")
    if pre is None or not sessions.csrf_matches(
        runtime.secret, pre, submitted if isinstance(submitted, str) else None
    ):
        raise CsrfRejected()
    username, password, code = field(form, "username"), form.get("password"), field(form, "code")
    next_path = safe_next(field(form, "next"))
    problem: str | None = None
    try:
        staff = await staff_accounts.check_credentials(
            session,
            runtime,
            username=username or "",
            password=password if isinstance(password, str) else "",
            code=code,
            ip=ip,
            second_factor_required=True,
        )
    except (
        InvalidStaffCredentials,
        SecondFactorRequired,
        InvalidSecondFactor,
        SecondFactorNotEnrolled,
    ) as exc:
        # One message for a wrong password and a wrong code: which one was wrong is not said.
        problem = (
            exc.detail
            if isinstance(exc, SecondFactorNotEnrolled)
            else "Wrong username, password or one-time code."
        )
        status_code = exc.status_code
    if problem is not None:
        return render(
            request,
            "sign_in.html",
            {
                "pre_csrf": submitted,
                "next": next_path,
                "username": username,
                "problem": problem,
            },
            status_code=status_code,
        )
    now = runtime.clock.now()
    await sessions.purge_expired(session, now=now)
    token = await sessions.open_session(session, staff=staff, secret=runtime.secret, now=now)
    await audit.record(
        session,
        at=now,
        action="staff.console_sign_in",
        actor=audit.Actor("staff", str(staff.id)),
        subject_type="staff",
        subject_id=staff.id,
        ip=ip,
    )
    response = see_other(next_path.removeprefix(PREFIX) or "/")
    behind_tls = runtime.settings.behind_tls
    response.set_cookie(
        sessions.cookie_name(behind_tls),
        token,
        path="/" if behind_tls else PREFIX,
        httponly=True,
        samesite="strict",
        secure=behind_tls,
        max_age=int(sessions.ABSOLUTE_TIMEOUT.total_seconds()),
    )
    response.delete_cookie(PRE_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
async def sign_out(
    signed: SignedIn, form: CheckedForm, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> Response:
    """End the session: its row is deleted, so the cookie is worth nothing any more."""
    await sessions.close_session(session, token=signed.token, secret=runtime.secret)
    await audit.record(
        session,
        at=runtime.clock.now(),
        action="staff.console_sign_out",
        actor=audit.Actor("staff", str(signed.staff.id)),
        subject_type="staff",
        subject_id=signed.staff.id,
        ip=ip,
    )
    behind_tls = runtime.settings.behind_tls
    response = see_other("/sign-in")
    response.delete_cookie(
        sessions.cookie_name(behind_tls), path="/" if behind_tls else PREFIX, secure=behind_tls
    )
    return response
