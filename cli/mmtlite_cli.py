"""The ``mmtlite`` command: a thin click shell over the ``mmtlite`` library.

Only file checking and templates so far; loading, rules and tranches land with their issues.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click
import msgspec

import nem2cdr
from cli.errors import run_guarded
from cli.render import console, escape, print_json
from mmtlite.categories import CATEGORIES, INBOUND
from mmtlite.fileformat import ParsedFile, file_name, parse, write

INPUT_ERRORS = 1


class Settings(msgspec.Struct):
    home: str | None
    env: str


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(nem2cdr.__version__, prog_name="mmtlite")
@click.option("--home", type=click.Path(file_okay=False), help="Folder that holds the databases.")
@click.option(
    "--env",
    type=click.Choice(["build", "sogl", "prod"]),
    default="build",
    show_default=True,
    help="Environment (one database each); files for another one are refused.",
)
@click.pass_context
def cli(context: click.Context, home: str | None, env: str) -> None:
    """mmtlite: a SQLite meter migration tool (loading lists, rules, tranches, outbound files).

    Built so far: `validate` and `template`; loading and the rest land with their issues.

    \b
    Example:
      mmtlite --env build validate MMT_BUILD_20240101120000.csv
    """
    context.obj = Settings(home, env)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table",
    show_default=True, help="table for people, json for scripts.",
)  # fmt: skip
@click.pass_obj
def validate(settings: Settings, files: tuple[str, ...], output_format: str) -> None:
    """Check inbound files without loading them: name, header, trailer and its count,
    environment, and every row (file, line, column, stable code). Exit 1 if any file is
    refused or has bad rows.

    \b
    Example:
      mmtlite validate NONCOMM_BUILD_20240105093000.csv
    """
    results = [parse(name, env=settings.env) for name in files]
    if output_format == "json":
        print_json([_as_report(result) for result in results])
    else:
        _print(results)
    if any(result.refused or result.row_errors for result in results):
        sys.exit(INPUT_ERRORS)


def _as_report(result: ParsedFile) -> dict[str, object]:
    return {
        "file": result.file,
        "ok": not (result.refused or result.row_errors),
        "category": result.category,
        "env": result.env,
        "sequence": result.sequence,
        "rows": len(result.rows),
        "complete_list": result.complete,
        "control_failures": result.control_failures,
        "row_errors": result.row_errors,
    }


def _print(results: list[ParsedFile]) -> None:
    out = console()
    for result in results:
        if result.refused:
            verdict = "[bold red]REFUSED[/]"
        elif result.row_errors:
            verdict = "[yellow]BAD ROWS[/]"
        else:
            verdict = "[green]ok[/]"
        what = (
            f"{result.category or '?'} sequence {result.sequence}, {len(result.rows):,} good rows"
        )
        out.print(f"{verdict} {escape(result.file)}: {escape(what)}")
        for failure in result.control_failures:
            where = f" line {failure.line}" if failure.line else ""
            out.print(f"[red]  {failure.code}{where}: {escape(failure.message)}[/]")
        for error in result.row_errors:
            column = f" column {error.column}" if error.column else ""
            out.print(
                f"[yellow]  {error.code} line {error.line}{column}: {escape(error.message)}[/]"
            )


@cli.command()
@click.argument("category", type=click.Choice(sorted(INBOUND), case_sensitive=False))
@click.option("--sequence", default=1, show_default=True, type=click.IntRange(1))
@click.pass_obj
def template(settings: Settings, category: str, sequence: int) -> None:
    """Print an empty file of CATEGORY (header and trailer) on stdout; on stderr, the name it
    should carry and its columns (the rows go between header and trailer).

    \b
    Example:
      mmtlite --env sogl template NONCOMM > NONCOMM.csv
    """
    spec = CATEGORIES[category.upper()]
    created = datetime.now().strftime("%Y%m%d%H%M%S")
    click.echo(f"# {file_name(spec.name, settings.env, created)}", err=True)
    click.echo(f"# columns: {'|'.join(spec.column_names)}", err=True)
    sys.stdout.buffer.write(write(spec.name, settings.env, sequence, created, []))


def main() -> None:
    run_guarded(cli, "mmtlite")
