"""``parental filters``: import lists, publish versions and try verdicts from the command line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from filters.check.service import check, default_profile
from filters.curation import publishing
from filters.curation import repository as curation_repository
from filters.curation import service as curation
from filters.engine.formats import parse_file, parse_ut1_folder
from filters.engine.rules import Format, ParseReport, Rule, Scope
from filters.rpz import service as rpz
from parental.kit.db import transaction
from parental.rpz import runtime_zone_cache, zone_options
from parental.runner import configure_logging, run_with_runtime
from parental.runtime import Runtime

filters_app = typer.Typer(help="Blocklists: import, publish, check.", no_args_is_help=True)
console = Console(stderr=True)


@filters_app.command("import")
def import_list(
    path: Annotated[
        Path, typer.Argument(exists=True, help="A list file, or a UT1 category folder.")
    ],
    source: Annotated[str, typer.Option(help="The source to fill (created if new).")],
    category: Annotated[
        str | None, typer.Option(help="Category key of a new source, e.g. drugs.")
    ] = None,
    format: Annotated[
        Format | None, typer.Option(case_sensitive=False, help="Override detection.")
    ] = None,
    exact: Annotated[
        bool, typer.Option("--exact", help="Plain names block only themselves, not subdomains.")
    ] = False,
) -> None:
    """Import a list into a source's draft, with a report of every line; publish to apply."""
    configure_logging()
    scope = Scope.EXACT if exact else Scope.SUBTREE
    with console.status(f"reading {path}"):
        if path.is_dir():
            folder = parse_ut1_folder(path)
            rules: list[Rule] = folder.rules
            reports = list(folder.reports.values())
        else:
            rules, report = parse_file(path, format, domains_scope=scope)
            reports = [report]
    for report in reports:
        _print_report(report)

    async def work(rt: Runtime) -> curation.ImportResult:
        now = rt.clock.now()
        async with transaction(rt.sessions) as session:
            await curation.seed_categories(session, now=now)
            row = await curation_repository.source_by_name(session, source)
            if row is None:
                if category is None:
                    raise typer.BadParameter("a new source needs --category")
                row = await curation.create_source(
                    session,
                    name=source,
                    category_key=category,
                    kind="file",
                    now=now,
                    format=format.value if format else None,
                    domains_scope=scope.value,
                )
            with Progress(
                SpinnerColumn(),
                TextColumn("storing new rules"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("store", total=None)
                return await curation.replace_rules(
                    session,
                    row,
                    rules,
                    report=reports[0],
                    actor="cli",
                    now=now,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )

    result = run_with_runtime(work)
    typer.echo(
        f"{source}: {result.added} added, {result.removed} removed, {result.unchanged} unchanged "
        "(in the draft; `parental filters publish` applies it)"
    )


def _print_report(report: ParseReport) -> None:
    console.print(
        f"[bold]{report.format.value}[/]: {report.lines_read} lines, {report.accepted} accepted, "
        f"{report.duplicates} duplicates, {report.skipped} comments/blank, "
        f"{report.rejected_count} rejected"
    )
    for rejection in report.rejected[:10]:
        console.print(f"  line {rejection.line}: {rejection.reason}: {rejection.text[:80]}")
    if report.rejected_count > 10:
        console.print(f"  ... and {report.rejected_count - 10} more")


@filters_app.command("publish")
def publish(note: Annotated[str | None, typer.Option(help="Why, for the record.")] = None) -> None:
    """Publish the draft as a new version; every process swaps to it."""
    configure_logging()

    async def work(rt: Runtime) -> str:
        async with transaction(rt.sessions) as session:
            version = await publishing.publish(
                session,
                snapshot_path=rt.snapshots.path_for_number,
                actor="cli",
                now=rt.clock.now(),
                note=note,
            )
        await rt.snapshots.publish(str(version.number), rt.notices)
        counts = version.counts
        return f"version {version.number}: {counts['rules']} rules on {counts['hosts']} names"

    typer.echo(run_with_runtime(work))


@filters_app.command("check")
def check_items(items: Annotated[list[str], typer.Argument(help="Names or URLs.")]) -> None:
    """Verdicts from the version in force, with the default profile."""

    async def work(rt: Runtime) -> list[str]:
        rt.snapshots.refresh()
        profile = default_profile(rt.settings.default_child_timezone)
        version, results = check(rt.snapshots, items, profile=profile, now=rt.clock.now())
        return [
            f"{r.action:5} {r.normalized}"
            + (f"  [{', '.join(r.categories)}] {r.rule.source_name} v{version}" if r.rule else "")
            for r in results
        ]

    for line in run_with_runtime(work):
        typer.echo(line)


@filters_app.command("export-rpz")
def export_rpz(
    output: Annotated[
        Path,
        typer.Option(help="A directory (one <category>.zone each), or a file for one category."),
    ],
    category: Annotated[
        list[str] | None, typer.Option(help="Category key; repeat for more. Default: all.")
    ] = None,
    version: Annotated[int | None, typer.Option(help="Default: the latest published.")] = None,
) -> None:
    """Write RPZ zones of published blocklists for a carrier's own resolvers."""
    configure_logging()

    async def work(rt: Runtime) -> list[str]:
        async with transaction(rt.sessions) as session:
            number = version if version is not None else await rpz.latest_version(session)
            keys = category or [c.key for c in await curation_repository.categories(session)]
            to_file = len(keys) == 1 and not output.is_dir() and output.suffix == ".zone"
            if not to_file:
                output.mkdir(parents=True, exist_ok=True)
            written = []
            for key in keys:
                zone = await rpz.category_zone(
                    session,
                    runtime_zone_cache(rt),
                    key=key,
                    options=zone_options(rt),
                    version=number,
                )
                target = output if to_file else output / f"{key}.zone"
                shutil.copyfile(zone.path, target)
                written.append(f"{target}: {zone.origin} serial {zone.serial}")
            return written

    for line in run_with_runtime(work):
        typer.echo(line)
