"""Running command-line work: logging, and a runtime whose embedded database is migrated."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from parental import migrate
from parental.kit import logs
from parental.kit.errors import AppError
from parental.kit.settings import get_kit_settings
from parental.runtime import Runtime, build_runtime

T = TypeVar("T")


def configure_logging() -> None:
    """JSON log lines with request ids and masked phone numbers (``kit.logs``)."""
    settings = get_kit_settings()
    logs.configure(settings.log_level, settings.log_format)


def run_with_runtime(
    work: Callable[[Runtime], Awaitable[T]],
    *,
    runtime: Runtime | None = None,
    migrate_embedded: bool = True,
) -> T:
    """Run ``work`` with a runtime whose database is migrated when it is the embedded SQLite."""

    async def main() -> T:
        rt = runtime or build_runtime()
        try:
            if migrate_embedded and rt.is_embedded_sqlite:
                await migrate.upgrade(rt.engine)
            return await work(rt)
        finally:
            await rt.close()

    try:
        return asyncio.run(main())
    except AppError as exc:
        typer.echo(f"error: {exc.code}: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
