"""The ``mmtlite`` command: a thin click shell over the ``mmtlite`` library.

Every command opens (and on first use creates) the database of ``--env`` under ``--home``. Exit
codes (CLI.md): 0 done, 1 the input has errors (a file refused or rows rejected), 2 usage, 3 busy
(another load holds the environment), 4 internal error.
"""

from __future__ import annotations

import contextlib
import csv
import math
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec

from mmtlite import activity, loader
from mmtlite.categories import ACTIONS, CATEGORIES, INBOUND
from mmtlite.db import SchemaError
from mmtlite.fileformat import file_name, parse, write
from mmtlite.lock import Busy
from mmtlite.migrations import connect
from mmtlite.paths import ENVS, Env, Place, create_folders, home
from mmtlite.reports import status as status_of
from nem2cdr_cli import mmtlite_render as render
from nem2cdr_cli.errors import Group, run_guarded
from nem2cdr_cli.output import print_json
from nem2cdr_cli.progress import files_bar, wanted

_ENVS: dict[str, Env] = {env: env for env in ENVS}

INPUT_ERRORS = 1
BUSY = 3

_FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table",
    show_default=True, help="table for people, json for scripts.",
)  # fmt: skip
_TABULAR_FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table",
    show_default=True, help="table for people, json or csv for scripts.",
)  # fmt: skip


class Settings(msgspec.Struct):
    home: str | None
    env: str

    @property
    def place(self) -> Place:
        return Place(home(self.home), _ENVS[self.env])


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nem2cdr", prog_name="mmtlite")
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    help="Folder of the databases and landing folders [default: $MMTLITE_HOME, else ./mmt].",
)
@click.option(
    "--env",
    type=click.Choice(["build", "sogl", "prod"]),
    default="build",
    show_default=True,
    help="Environment (one database each); files for another one are refused.",
)
@click.pass_context
def cli(context: click.Context, home: str | None, env: str) -> None:
    """mmtlite: a SQLite meter migration tool. Loads inbound lists exactly once (ADD, REMOVE,
    ALL), with a ledger, an activity log and an error table; derives every meter's status
    (eligible, excluded, held) after each load; selects tranches and writes the files to the
    DCC, CS and MDM.

    \b
    Example:
      mmtlite generate --meters 1000
      mmtlite ingest
      mmtlite status
      mmtlite select --size 100 --tranche T1
    """
    context.obj = Settings(home, env)


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[sqlite3.Connection]:
    """The environment's database; a file that is not one is an input error (exit 1)."""
    with _home_errors():
        connection = connect(settings.place.database)
    try:
        yield connection
    finally:
        connection.close()


@contextlib.contextmanager
def _home_errors() -> Iterator[None]:
    """A home or database that cannot be used (not an mmtlite database, a file where a folder
    should be, no permission) is one line and exit 1, not a traceback."""
    try:
        yield
    except (SchemaError, OSError, sqlite3.OperationalError) as exc:
        click.echo(f"mmtlite: {exc}", err=True)
        sys.exit(INPUT_ERRORS)


@cli.command()
@click.pass_obj
def init(settings: Settings) -> None:
    """Create the environment's database and landing folders (every command also creates the
    database on first use).

    \b
    Example:
      mmtlite --home /srv/mmt --env sogl init
    """
    place = settings.place
    with _database(settings), _home_errors():
        folders = create_folders(place)
    click.echo(f"database {place.database} (schema ready)")
    click.echo(f"{len(folders)} landing folders under {place.root}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@_FORMAT
@click.pass_obj
def validate(settings: Settings, files: tuple[str, ...], output_format: str) -> None:
    """Check inbound files without loading them: name, header, trailer and its count,
    environment, and every row (file, line, column, stable code). Exit 1 if any file is
    refused or has bad rows. (Codes against the EXCLCODE list and the ledger's sequence rules
    are checked when loading.)

    \b
    Example:
      mmtlite validate NONCOMM_BUILD_20240105093000.csv
    """
    results = [parse(name, env=settings.env) for name in files]
    if output_format == "json":
        print_json([render.validation_report(result) for result in results])
    else:
        render.print_validation(results)
    if any(result.refused or result.row_errors for result in results):
        sys.exit(INPUT_ERRORS)


def _load_options(function: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option(
            "--force", is_flag=True,
            help="Let a known sequence gap or a mass delete through (written in the log).",
        ),
        click.option(
            "--error-budget", metavar="N|P%",
            help="Bad rows a file may have and still load (its good rows): a count or a share. "
            "[default: 0 for EXCLCODE, DMCT and EPCL; 1% (at least 10) for the others]",
        ),
        click.option(
            "--max-delete", type=click.FloatRange(0, 100), default=20.0, show_default=True,
            callback=_a_number,
            metavar="PCT", help="Share of a list a complete (ALL) file may remove without --force.",
        ),
        _FORMAT,
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    ]  # fmt: skip
    for option in reversed(options):
        function = option(function)
    return function


def _a_number(context: click.Context, parameter: click.Parameter, value: float) -> float:
    if math.isnan(value):  # FloatRange lets NaN through, and NaN > x is never true
        raise click.BadParameter("not a number", context, parameter)
    return value


def _options(given: dict[str, Any]) -> loader.Options:
    """The loader's options from those of ``_load_options``."""
    error_budget: str | None = given["error_budget"]
    budget = None
    if error_budget is not None:
        count = re.fullmatch(r"\s*([0-9]{1,9})\s*", error_budget)
        share = re.fullmatch(r"\s*([0-9]{1,3}(?:\.[0-9]{1,6})?)\s*%\s*", error_budget)
        if count is not None:
            budget = loader.Budget(count=int(count[1]))
        elif share is not None and float(share[1]) <= 100:
            budget = loader.Budget(share=float(share[1]) / 100)
        else:
            raise click.BadParameter(
                f"{error_budget!r}: give a count (50) or a share (0.5%)",
                param_hint="--error-budget",
            )
    return loader.Options(force=given["force"], budget=budget, max_delete=given["max_delete"] / 100)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@_load_options
@click.pass_obj
def load(settings: Settings, /, files: tuple[str, ...], **given: Any) -> None:
    """Load inbound FILES, in category and sequence order, each in one transaction with its
    ledger entry: content already loaded is skipped; a reused name or sequence, a replay, a
    gap (unless --force), a file for another environment or with too many bad rows is refused
    and nothing of it applied. Exit 1 if a file was refused or rows rejected, 3 if another load
    holds the environment.

    \b
    Example:
      mmtlite --env sogl load NONCOMM_SOGL_20240105093000.csv
    """
    options = _options(given)
    _report_run(lambda on_file: loader.load(settings.place, files, options, on_file), given)


@cli.command()
@_load_options
@click.pass_obj
def ingest(settings: Settings, /, **given: Any) -> None:
    """Load every new file of the environment's inbound folders
    (<home>/<system>/<system_data>/<category>/inbound), codes and device lists first, each
    category in sequence order. Files already loaded are left alone; a refused file stays and is
    tried again next time (a gap fills once the missing file arrives).

    \b
    Example:
      mmtlite --home /srv/mmt --env prod ingest
    """
    options = _options(given)
    _report_run(lambda on_file: loader.ingest(settings.place, options, on_file), given)


def _report_run(
    run: Callable[[loader.OnFile | None], loader.RunResult], given: dict[str, Any]
) -> None:
    output_format = given["output_format"]
    try:
        with _home_errors(), files_bar(wanted(given["quiet"])) as on_file:
            result = run(on_file)
    except Busy as exc:
        click.echo(f"mmtlite: busy: {exc}", err=True)
        sys.exit(BUSY)
    if output_format == "json":
        print_json(render.run_report(result))
    else:
        render.print_run(result)
    if not result.clean:
        sys.exit(INPUT_ERRORS)


@cli.command()
@_FORMAT
@click.pass_obj
def status(settings: Settings, output_format: str) -> None:
    """Meters of the master list (and of tranches) by status: 0 held (a to-do at the meter or
    its site), 0S eligible, 0Z excluded, 1 selected, 1R rejected by the DCC, 1a CS note
    acknowledged, 2 MDM notified.

    \b
    Example:
      mmtlite status --format json
    """
    with _database(settings) as connection:
        counts = status_of(connection, settings.env)
    if output_format == "json":
        print_json(counts)
    else:
        render.print_status(counts)


@cli.command()
@click.option("--size", type=click.IntRange(1), required=True, help="At most this many meters.")
@click.option("--tranche", "tranche_id", required=True, metavar="ID", help="A new tranche id.")
@_FORMAT
@click.pass_obj
def select(settings: Settings, size: int, tranche_id: str, output_format: str) -> None:
    """Select a tranche of at most SIZE eligible (0S) meters, whole sites together, and write
    the DCC candidate file (DCCCAND) to the dcc outbound folder. The order is fixed: sites by
    site id, a site that does not fit is passed over; the same data and command always select
    the same meters. The meters become 1 (selected).

    \b
    Example:
      mmtlite select --size 100000 --tranche T2024-03
    """
    from mmtlite.tranches import select_tranche

    selection = _as_writer(lambda: select_tranche(settings.place, tranche_id, size))
    if output_format == "json":
        print_json(selection)
    else:
        render.print_selection(selection)


@cli.command()
@click.argument("target", type=click.Choice(["cs", "mdm", "dcc"]))
@click.option("--tranche", "tranche_id", required=True, metavar="ID")
@click.option(
    "--note-code", default="S1MIG", show_default=True, metavar="CODE",
    help="cs: the note code each row carries.",
)  # fmt: skip
@click.option(
    "--migration-date", metavar="YYYYMMDD", help="mdm: the migration date (required for mdm)."
)
@_FORMAT
@click.pass_obj
def export(
    settings: Settings,
    target: str,
    tranche_id: str,
    note_code: str,
    migration_date: str | None,
    output_format: str,
) -> None:
    """Write a tranche's file for TARGET into its outbound folder: cs, the CS note (CSNOTE) for
    the meters the DCC accepted and no note named yet; mdm, the MDM notification (MDMNOTIF) for
    the meters whose CS note was acknowledged (1a); dcc, the candidate list again (DCCCAND).
    Each file has its own next sequence and a new name. Exit 1 if there is nothing to send.

    \b
    Example:
      mmtlite export cs --tranche T2024-03
      mmtlite export mdm --tranche T2024-03 --migration-date 20240415
    """
    from mmtlite.categories import CODE, DATE
    from mmtlite.tranches import export_tranche

    if target == "mdm" and migration_date is None:
        raise click.UsageError("export mdm needs --migration-date YYYYMMDD")
    if migration_date is not None and not re.fullmatch(DATE.pattern, migration_date):
        raise click.BadParameter(f"expected {DATE.expected}", param_hint="--migration-date")
    if not re.fullmatch(CODE.pattern, note_code):
        raise click.BadParameter(f"expected {CODE.expected}", param_hint="--note-code")
    exported = _as_writer(
        lambda: export_tranche(
            settings.place, target, tranche_id, note_code=note_code,  # type: ignore[arg-type]
            migration_date=migration_date,
        )
    )  # fmt: skip
    if output_format == "json":
        print_json(exported)
    else:
        render.print_export(exported)


@cli.command()
@click.argument("system", type=click.Choice(["dcc", "cs", "mdm"]))
@click.option("--tranche", "tranche_id", required=True, metavar="ID")
@click.option(
    "--fail", type=click.FloatRange(0, 100), default=2.0, show_default=True, metavar="PCT",
    help="Share of the rows the system rejects (DCC) or fails (CS, MDM).",
)  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.pass_obj
def respond(settings: Settings, system: str, tranche_id: str, fail: float, seed: int) -> None:
    """Play SYSTEM in a test environment (build, sogl; never prod): answer the last file
    mmtlite sent it for the tranche (DCCCAND, CSNOTE, MDMNOTIF) with DCCRESP, CSRESP or MDMRESP
    in its inbound folder, the next sequence; the same seed gives the same answer.

    \b
    Example:
      mmtlite respond dcc --tranche T1 --fail 2
      mmtlite ingest
    """
    from mmtlite.simulate import SimulateError
    from mmtlite.simulate import respond as answer

    try:
        with _database(settings) as connection, _home_errors():
            made = answer(
                connection, settings.place, system, tranche_id, created=_now(), fail=fail / 100,
                seed=seed,
            )  # fmt: skip
    except SimulateError as exc:
        click.echo(f"mmtlite: {exc}", err=True)
        sys.exit(INPUT_ERRORS)
    click.echo(
        f"{made.path} ({made.category} sequence {made.sequence}, {made.rows:,} rows, "
        f"{made.failed:,} not accepted)"
    )


Made = TypeVar("Made")


def _as_writer(make: Callable[[], Made]) -> Made:
    """Run a writing command: busy is exit 3, a refusal (TrancheError) one line and exit 1."""
    from mmtlite.tranches import TrancheError

    try:
        with _home_errors():
            return make()
    except Busy as exc:
        click.echo(f"mmtlite: busy: {exc}", err=True)
        sys.exit(BUSY)
    except TrancheError as exc:
        click.echo(f"mmtlite: {exc}", err=True)
        sys.exit(INPUT_ERRORS)


@cli.command()
@click.argument("msn")
@_FORMAT
@click.pass_obj
def history(settings: Settings, msn: str, output_format: str) -> None:
    """One meter's story: its status and why, the facts about it (exclusions, to-dos, its
    device on the EPCL and DMCT), its site-mates, and every change with time, cause and
    source file. Exit 1 if no list names the meter.

    \b
    Example:
      mmtlite history 16K37206385
    """
    from mmtlite.reports import history as story_of

    with _database(settings) as connection:
        story = story_of(connection, msn)
    if story is None:
        click.echo(f"mmtlite: meter {msn} is not known in {settings.env}", err=True)
        sys.exit(INPUT_ERRORS)
    if output_format == "json":
        print_json(story)
    else:
        render.print_story(story)


@cli.command()
@_TABULAR_FORMAT
@click.option(
    "--html", "html_file", type=click.Path(dir_okay=False), metavar="FILE",
    help="Also write the report as one self-contained HTML page with charts.",
)  # fmt: skip
@click.pass_obj
def report(settings: Settings, output_format: str, html_file: str | None) -> None:
    """Where the migration stands: meters by status, exclusions and holds by reason (each
    meter once, under its first cause, with the share that comes from a site-mate), conflicts
    (tranche meters the lists would now exclude), and each tranche's progress (the DCC's, CS's
    and MDM's answers, the files written).

    \b
    Example:
      mmtlite report --html migration.html
      mmtlite report --format csv > report.csv
    """
    from mmtlite.migration_report import report as report_of
    from mmtlite.migration_report import rows

    with _database(settings) as connection:
        made = report_of(connection, settings.env)
    if html_file is not None:
        from nem2cdr_cli.mmtlite_html import page

        with _home_errors():
            Path(html_file).write_text(page(made), encoding="utf-8")
    if output_format == "json":
        print_json(made)
    elif output_format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(("section", "group", "measure", "value"))
        writer.writerows(rows(made))
    else:
        render.print_report(made)
        if html_file is not None:
            click.echo(f"HTML report: {html_file}", err=True)


@cli.command()
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@_TABULAR_FORMAT
@click.pass_obj
def log(settings: Settings, limit: int, output_format: str) -> None:
    """The activity log, newest first: per file, its run, start and end, outcome and rows read,
    added, changed, removed, rejected.

    \b
    Example:
      mmtlite log --limit 5
    """
    with _database(settings) as connection:
        entries = activity.entries(connection, limit=limit)
    render.print_rows(entries, output_format, render.print_log)


@cli.command()
@click.option("--file", "file_name_", metavar="NAME", help="Only this file (its name or path).")
@click.option("--load", "load_id", type=int, metavar="ID", help="Only this log entry.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@_TABULAR_FORMAT
@click.pass_obj
def errors(
    settings: Settings, file_name_: str | None, load_id: int | None, limit: int, output_format: str
) -> None:
    """The error table: refusals and rejected rows, with file, line, column, code and message
    (newest load first).

    \b
    Example:
      mmtlite errors --file NONCOMM_BUILD_20240105093000.csv --format json
    """
    with _database(settings) as connection:
        rows = activity.error_rows(connection, load_id=load_id, file=file_name_, limit=limit)
    render.print_rows(rows, output_format, render.print_errors)


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
    created = _now()
    click.echo(f"# {file_name(spec.name, settings.env, created)}", err=True)
    click.echo(f"# columns: {'|'.join(spec.column_names)}", err=True)
    sys.stdout.buffer.write(write(spec.name, settings.env, sequence, created, []))


@cli.command()
@click.argument("category", type=click.Choice(sorted(INBOUND), case_sensitive=False))
@click.argument("rows", type=click.Path(dir_okay=False))
@click.option(
    "--action", type=click.Choice(ACTIONS, case_sensitive=False),
    help="Add this action to every row (when the rows do not carry one).",
)  # fmt: skip
@click.option("--sequence", type=click.IntRange(1), help="[default: the next one]")
@click.option(
    "-o", "--output", type=click.Path(),
    help="A folder, or - for stdout. [default: the category's inbound folder]",
)  # fmt: skip
@click.pass_obj
def wrap(
    settings: Settings,
    category: str,
    rows: str,
    action: str | None,
    sequence: int | None,
    output: str | None,
) -> None:
    """Turn plain ROWS (a spreadsheet's CSV: comma, pipe or tab separated, a first line of
    column names skipped) into a proper inbound file: header, trailer, the next sequence and a
    stamped name. Written only if every row is valid (exit 1 otherwise, with the reasons).

    \b
    Example:
      mmtlite wrap MANEXCL exclusions.csv --action ADD
    """
    from mmtlite.wrap import WrapError
    from mmtlite.wrap import wrap as wrap_rows

    spec = CATEGORIES[category.upper()]
    place = settings.place
    try:
        with _home_errors():
            wrapped = wrap_rows(
                spec, rows, place, created=_now(), action=action and action.upper(),
                sequence=sequence,
            )  # fmt: skip
    except WrapError as exc:
        click.echo(f"mmtlite: {exc}", err=True)
        sys.exit(INPUT_ERRORS)
    if wrapped.checked.refused or wrapped.checked.row_errors:
        render.print_validation([wrapped.checked])
        click.echo("mmtlite: nothing written: fix the rows above", err=True)
        sys.exit(INPUT_ERRORS)
    if output == "-":
        sys.stdout.buffer.write(wrapped.content)
        return
    folder = Path(output) if output else place.folder(spec.system, spec.name, "inbound")
    with _home_errors():
        target = _write_new(folder, wrapped.name, wrapped.content)
    click.echo(
        f"{target} ({len(wrapped.checked.rows):,} rows, sequence {wrapped.checked.sequence})"
    )


@cli.command()
@click.option("--meters", type=click.IntRange(0), required=True, help="Meters in the master list.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--created", default="20240101090000", show_default=True, metavar="YYYYMMDDHHMMSS",
    help="Creation stamp of the first file (names and headers; the others follow by a second).",
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(file_okay=False),
    help="Write the files into this folder. [default: the environment's inbound folders]",
)  # fmt: skip
@click.pass_obj
def generate(settings: Settings, meters: int, seed: int, created: str, output: str | None) -> None:
    """Write a realistic synthetic set of inbound files (codes, DMCT, EPCL, the master list of
    METERS meters on sites of one to four, non-comms, manual exclusions, to-dos, status
    changes): the same arguments always give the same bytes.

    \b
    Example:
      mmtlite generate --meters 1000000 --seed 7 -o /tmp/mmt-files
    """
    from mmtlite.generator import generate as generate_files
    from mmtlite.generator import write_into_inbound, write_set

    if not re.fullmatch(r"[0-9]{14}", created):
        raise click.BadParameter("expected YYYYMMDDHHMMSS", param_hint="--created")
    files = generate_files(meters, seed=seed, env=settings.env, created=created)
    with _home_errors():
        if output:
            paths = write_set(files, Path(output))
        else:
            paths = write_into_inbound(files, settings.place)
    for generated, path in zip(files, paths, strict=True):
        click.echo(f"{path} ({generated.rows:,} rows)")


def _now() -> str:
    return datetime.now().strftime("%Y%m%d%H%M%S")


def _write_new(folder: Path, name: str, content: bytes) -> Path:
    """Write ``content`` as ``folder/name`` atomically, never over an existing file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        click.echo(f"mmtlite: {target} exists already: try again in a second", err=True)
        sys.exit(INPUT_ERRORS)
    temporary = folder / f".{name}.tmp"
    temporary.write_bytes(content)
    temporary.rename(target)
    return target


def main() -> None:
    run_guarded(cli, "mmtlite")
