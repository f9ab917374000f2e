"""The ``parental`` command: serve, worker, database, carrier and admin tasks, demo."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from parental import migrate
from parental.admin import service as admin
from parental.app import create_app
from parental.audit.service import Actor
from parental.conversations import rekey_all
from parental.demo import DemoCredentials, seed_demo
from parental.dns import serve_forever as serve_dns_forever
from parental.filters_cli import filters_app
from parental.kit import heap
from parental.kit.db import transaction
from parental.kit.metrics import serve_metrics
from parental.kit.phone import InvalidPhoneNumber, normalize_e164
from parental.kit.settings import get_kit_settings
from parental.lines import service as lines
from parental.notifications.dispatcher import dispatch_round
from parental.runner import configure_logging, run_with_runtime
from parental.runtime import Runtime, build_runtime
from parental.settings import get_parental_settings
from parental.sms.sender import LogSmsSender
from parental.worker import purge_expired, refresh_due_sources, run_forever, run_timers

app = typer.Typer(help="Backend of the child-safe SIM.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
carrier_app = typer.Typer(
    help="What the carrier's systems do, from the command line.", no_args_is_help=True
)
admin_app = typer.Typer(help="Staff accounts (curators and admins).", no_args_is_help=True)
messages_app = typer.Typer(help="Messages the child's devices uploaded.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(carrier_app, name="carrier")
app.add_typer(admin_app, name="admin")
app.add_typer(messages_app, name="messages")
app.add_typer(filters_app, name="filters")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo family first.")] = False,
) -> None:
    """Serve the API (with no configuration: SQLite in ./var, in-process cache)."""
    configure_logging()
    if demo:
        _print_demo(
            run_with_runtime(seed_demo, runtime=build_runtime(sms=LogSmsSender())), host, port
        )
    elif get_kit_settings().database_url is None:
        run_with_runtime(
            lambda rt: asyncio.sleep(0)
        )  # create and migrate the embedded database up front
    uvicorn.run(
        "parental.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # A new worker answers the supervisor's health check only once it has imported the
        # app, which takes seconds on a busy machine: uvicorn's default 5 s had it killed and
        # started again for ever, silently (found by bench/load).
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        log_config=None,
    )


WORKER_HEALTHCHECK_SECONDS = 60


@app.command()
def blockpage(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (HTTP only).")] = 8080,
) -> None:
    """Serve the block page at the address the DNS front end answers blocked names with."""
    configure_logging()
    if get_kit_settings().database_url is None:
        run_with_runtime(lambda rt: asyncio.sleep(0))  # migrate the embedded database first
    uvicorn.run(
        "parental.blockpage:create_blockpage_app",
        factory=True,
        host=host,
        port=port,
        log_config=None,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one round and exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 300.0,
    timers: Annotated[float, typer.Option(help="Seconds between alarm timer checks.")] = 30.0,
) -> None:
    """Run background work: purge what has expired, refresh blocklists fetched from a URL,
    raise the alarms that depend on time (silent devices, "not arrived by" deadlines), send
    the push outbox."""
    configure_logging()
    settings = get_parental_settings()
    if settings.metrics_port and not once:
        # A thread of prometheus-client's own: a scrape never waits for the event loop.
        serve_metrics(settings.metrics_host, settings.metrics_port)
    if once:
        report = run_with_runtime(purge_expired)
        typer.echo(f"purged {report.total} rows")
        refreshed = run_with_runtime(refresh_due_sources)
        for name, outcome in sorted(refreshed.outcomes.items()):
            typer.echo(f"{name}: {outcome}")
        run_with_runtime(run_timers)
        pushed = run_with_runtime(dispatch_round)
        if pushed.claimed:
            typer.echo(f"push: {pushed.sent} sent, {pushed.retried} retry, {pushed.failed} failed")
    else:

        async def forever(rt: Runtime) -> None:
            heap.settle()
            await run_forever(rt, interval_seconds=interval, timer_seconds=timers)

        run_with_runtime(forever)


@messages_app.command("rekey")
def messages_rekey() -> None:
    """Re-encrypt every stored message and alert excerpt under PARENTAL_MESSAGE_KEY_ID (after
    adding a new key to PARENTAL_MESSAGE_KEYS); an old key can be removed once this has run."""
    configure_logging()
    moved = run_with_runtime(rekey_all)
    typer.echo(f"re-encrypted {moved.messages} messages and {moved.alerts} alert excerpts")


@app.command()
def dns(
    host: Annotated[str | None, typer.Option(help="Address (default: PARENTAL_DNS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PARENTAL_DNS_PORT).")] = None,
) -> None:
    """Run the DNS front end (UDP and TCP) that filters child lines' lookups."""
    configure_logging()
    run_with_runtime(lambda rt: serve_dns_forever(rt, host=host, port=port))


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Host the printed examples use.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the printed examples use.")] = 8000,
) -> None:
    """Seed a demo family, child and paired device; print tokens and example requests."""
    configure_logging()
    _print_demo(run_with_runtime(seed_demo, runtime=build_runtime(sms=LogSmsSender())), host, port)


def _print_demo(creds: DemoCredentials, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    print(
        f"""
Demo family ready (guardian {creds.guardian_phone}).

  GUARDIAN_TOKEN={creds.access_token}
  REFRESH_TOKEN={creds.refresh_token}
  DEVICE_TOKEN={creds.device_token}
  CARRIER_KEY={creds.service_key}

The guardian token lasts 15 minutes; POST {base}/v1/auth/tokens/refresh with the refresh token
for a new one. Try:

  curl -H "Authorization: Bearer $GUARDIAN_TOKEN" {base}/v1/children
  curl -H "Authorization: Bearer $DEVICE_TOKEN" {base}/v1/device
  curl -H "Authorization: Bearer $CARRIER_KEY" {base}/carrier/v1/lines/+77070000001
""",
        flush=True,
    )


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Print (or write) the OpenAPI document of the API."""
    text = json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    configure_logging()

    async def work(rt: Runtime) -> str | None:
        await migrate.upgrade(rt.engine, revision)
        return await migrate.current_revision(rt.engine)

    typer.echo(f"database at {run_with_runtime(work, migrate_embedded=False)}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one."""

    async def work(rt: Runtime) -> str | None:
        return await migrate.current_revision(rt.engine)

    runtime = build_runtime()

    async def main() -> str | None:
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    typer.echo(f"current: {asyncio.run(main())}, head: {migrate.head_revision()}")


@carrier_app.command("register-line")
def register_line(
    msisdn: Annotated[str, typer.Argument(help="The line's number, E.164 (+77...).")],
    guardian_phone: Annotated[str, typer.Option("--guardian", help="Contract holder, E.164.")],
    child_sim: Annotated[bool, typer.Option("--child-sim/--not-child-sim")] = True,
    active: Annotated[bool, typer.Option("--active/--inactive")] = True,
) -> None:
    """Register a line as the carrier would (for a trial without a carrier system)."""
    configure_logging()
    try:
        guardian = normalize_e164(guardian_phone)
    except InvalidPhoneNumber as exc:
        typer.echo(f"error: --guardian: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def work(rt: Runtime) -> str:
        async with transaction(rt.sessions) as session:
            line, created = await lines.register_line(
                session,
                msisdn=lines.carrier_msisdn(msisdn, rt.settings.carrier_regions),
                guardian_phone=guardian,
                is_child_sim=child_sim,
                active=active,
                now=rt.clock.now(),
                actor=Actor("carrier", "cli"),
            )
        return f"{'registered' if created else 'updated'} {line.msisdn} (guardian {guardian})"

    typer.echo(run_with_runtime(work))


@carrier_app.command("create-key")
def create_service_key(name: Annotated[str, typer.Argument(help="Which system uses it.")]) -> None:
    """Create a service key for a carrier system; it is printed once and stored hashed."""

    async def work(rt: Runtime) -> str:
        async with transaction(rt.sessions) as session:
            return await lines.create_service_key(
                session, name=name, secret=rt.secret, now=rt.clock.now()
            )

    typer.echo(run_with_runtime(work))


@carrier_app.command("revoke-key")
def revoke_service_key(name: Annotated[str, typer.Argument()]) -> None:
    """Revoke a carrier service key by name."""

    async def work(rt: Runtime) -> bool:
        async with transaction(rt.sessions) as session:
            revoked = await lines.revoke_service_key(session, name=name, now=rt.clock.now())
        if revoked:  # the filter's processes forget who its callers are
            await rt.tell_subjects(None)
        return revoked

    if not run_with_runtime(work):
        typer.echo(f"no active key named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {name}")


@admin_app.command("create")
def create_staff(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="admin or curator.")] = "admin",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a curator or admin account (the password is asked for, never an argument)."""
    if role not in ("admin", "curator"):
        typer.echo("error: --role must be admin or curator", err=True)
        raise typer.Exit(2)
    password = (
        sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
    )
    if len(password) < admin.MIN_PASSWORD_LENGTH:
        typer.echo(f"error: the password needs {admin.MIN_PASSWORD_LENGTH}+ characters", err=True)
        raise typer.Exit(2)

    async def work(rt: Runtime) -> str:
        async with transaction(rt.sessions) as session:
            staff = await admin.create_staff(
                session, username=username, password=password, role=role, now=rt.clock.now()
            )
            return f"created {staff.role} {staff.username} ({staff.id})"

    typer.echo(run_with_runtime(work))


@admin_app.command("enrol-totp")
def enrol_totp(username: Annotated[str, typer.Argument()]) -> None:
    """Give a staff account a second factor (replacing any): prints the otpauth:// URI once,
    to add to an authenticator app; sign-ins then need its one-time code."""

    async def work(rt: Runtime) -> str:
        async with transaction(rt.sessions) as session:
            return await admin.enrol_second_factor(
                session, username=username, service_secret=rt.secret, now=rt.clock.now()
            )

    uri = run_with_runtime(work)  # an unknown username: "error: StaffNotFound ...", exit 1
    typer.echo("Add this to the authenticator app (it is not shown again):")
    typer.echo(uri)


def main() -> None:
    app()
