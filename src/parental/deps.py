"""Dependencies every router shares, as ``Annotated`` aliases.

Every dependency is ``async def``, even one that awaits nothing: FastAPI runs a plain ``def``
in its thread pool, a hand-off to another thread and back for each request, which on a busy
machine waits for the scheduler each way (``tests/test_no_thread_pool.py`` keeps it so).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.clock import Clock
from parental.kit.errors import AppError
from parental.kit.ratelimit import RateLimiter
from parental.runtime import Runtime
from parental.settings import ParentalSettings


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the route returns, rolled back if it raises.

    Errors marked ``keep_changes`` (a counted wrong code, a revoked token chain) commit first.
    Scoped to the route function so the commit happens before the response is sent.
    """
    async with runtime.sessions() as session:
        try:
            yield session
        except AppError as exc:
            if exc.keep_changes:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


async def get_settings(runtime: RuntimeDep) -> ParentalSettings:
    return runtime.settings


async def get_limiter(runtime: RuntimeDep) -> RateLimiter:
    return runtime.limiter


async def get_client_ip(request: Request) -> str:
    """The caller's address as the server sees it (uvicorn applies trusted proxy headers)."""
    return request.client.host if request.client else "unknown"


ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[ParentalSettings, Depends(get_settings)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
ClientIP = Annotated[str, Depends(get_client_ip)]
