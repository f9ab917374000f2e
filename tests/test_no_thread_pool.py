"""No route sends work to FastAPI's thread pool.

FastAPI runs a route function or dependency written as a plain ``def`` in a worker thread: a
hand-off to another thread and back for every request that uses it, which on a busy machine
waits for the scheduler twice (the load scenario's p95 of every route, session 9). Ours are
all ``async def``, also those that await nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from parental.app import create_app


def _runs_in_the_loop(call: Callable[..., Any]) -> bool:
    if inspect.isclass(call):
        return False  # a class as a dependency is instantiated in the thread pool
    for candidate in (call, getattr(call, "__call__", None)):  # noqa: B004 - instances too
        if inspect.iscoroutinefunction(candidate) or inspect.isasyncgenfunction(candidate):
            return True
    return False


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _routes(app: FastAPI) -> list[APIRoute]:
    routes = [c.original_route for c in iter_route_contexts(app.router.routes)]
    return [route for route in routes if isinstance(route, APIRoute)]


def test_every_route_function_and_dependency_is_a_coroutine() -> None:
    routes = _routes(create_app())
    assert len(routes) > 150  # the walk reached the included routers' routes
    in_threads = {
        f"{route.path}: {getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', call)}"
        for route in routes
        for call in _calls(route.dependant)
        if not _runs_in_the_loop(call)
    }
    assert in_threads == set()


def test_the_check_finds_a_plain_function() -> None:
    def plain() -> int:
        return 1

    async def coroutine() -> int:
        return 1

    assert not _runs_in_the_loop(plain)
    assert _runs_in_the_loop(coroutine)
