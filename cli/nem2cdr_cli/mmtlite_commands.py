"""The ``mmtlite`` command: a thin click shell over the ``mmtlite`` library.

Every command opens the database of ``--env`` under ``--home`` (the writing commands create it on
first use; the read-only ones never do). Exit codes (docs/cli.md): 0 done, 1 the input has errors
(a file refused or rows rejected, a damaged or missing database), 2 usage, 3 busy (another load
holds the environment), 4 internal error.
"""

from __future__ import annotations

import errno
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import click

import mmtlite
from mmtlite import Budget, Database, MmtliteError, RunResult
from mmtlite.arguments import MAX_SEQUENCE, SQLITE_MAX
from mmtlite.categories import ACTIONS, INBOUND
from mmtlite.errors import BadArgument
from mmtlite.generator import MAX_METERS
from mmtlite.loader import MAX_SIZE, OnFile
from mmtlite.lock import Busy
from mmtlite.migration_report import rows as report_rows
from mmtlite.paths import ENVS
from mmtlite.results import run_report
from nem2cdr.atomic import STDOUT
from nem2cdr_cli import mmtlite_render as render
from nem2cdr_cli.errors import BUSY, INPUT_ERRORS, Group, discard_stdout, fail, given, run_guarded
from nem2cdr_cli.output import format_option, print_json
from nem2cdr_cli.progress import files_bar, wanted

_FORMAT = format_option("json")
_TABULAR_FORMAT = format_option("json", "csv")

_HOME_HELP = "Folder of the databases and landing folders [default: $MMTLITE_HOME, else ./mmt]."
_ENV_HELP = "Environment (one database each); files for another one are refused."


class Settings:
    """The global options: given to the group, or again (overriding) to the subcommand."""

    def __init__(self, home: str | None, env: str) -> None:
        self.home = home
        self.env = env

    @property
    def db(self) -> Database:
        return mmtlite.open(self.home, self.env)  # type: ignore[arg-type]  # a click Choice


def _override(context: click.Context, parameter: click.Parameter, value: str | None) -> None:
    if value is not None:
        setattr(context.ensure_object(Settings), parameter.name or "", value)


def _global_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--home`` and ``--env`` after the subcommand too (``mmtlite status --env sogl``)."""
    function = click.option(
        "--env",
        type=click.Choice(ENVS, case_sensitive=False),
        expose_value=False,
        callback=_override,
        is_eager=True,
        help=_ENV_HELP,
    )(function)
    return click.option(
        "--home",
        type=click.Path(file_okay=False),
        expose_value=False,
        callback=_override,
        is_eager=True,
        help=_HOME_HELP,
    )(function)


def _command(function: Callable[..., Any]) -> click.Command:
    """A subcommand of ``mmtlite`` that takes the global options as well."""
    return cli.command()(_global_options(function))


class _Group(Group):
    """``Group``, and a full disk or a failing device under stdout (``> /dev/full``) said in one
    line, exit 1: the output is lost, not the command's work, and it is no internal error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.filename is not None or exc.errno not in _OUTPUT_LOST:
                raise
            discard_stdout()  # the interpreter's last flush would fail again
            click.echo(f"mmtlite: cannot write the output: {exc.strerror or exc}", err=True)
            ctx.exit(INPUT_ERRORS)


_OUTPUT_LOST = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(mmtlite.__version__, prog_name="mmtlite")
@click.option("--home", type=click.Path(file_okay=False), help=_HOME_HELP)
@click.option(
    "--env",
    type=click.Choice(ENVS, case_sensitive=False),
    default="build",
    show_default=True,
    help=_ENV_HELP,
)
@click.pass_context
def cli(context: click.Context, home: str | None, env: str) -> None:
    """mmtlite: a SQLite meter migration tool. Loads inbound lists exactly once (ADD, REMOVE,
    ALL), with a ledger, an activity log and an error table; derives every meter's status
    (eligible, excluded, held) after each load; selects tranches and writes the files to the
    DCC, CS and MDM. --home and --env go before or after the command.

    \b
    Example:
      mmtlite generate --meters 1000
      mmtlite ingest
      mmtlite status
      mmtlite select --size 100 --tranche T1
    """
    context.obj = Settings(home, env)


@contextmanager
def _refusals() -> Iterator[None]:
    """What the library refuses, as the CLI says it: an argument that can never work is a
    usage error (exit 2), another writer busy is exit 3, any other refusal or a home that
    cannot be used (a file where a folder should be, no permission) one line and exit 1."""
    try:
        yield
    except BadArgument as exc:
        if exc.option is None:
            raise click.UsageError(str(exc)) from None
        raise click.BadParameter(str(exc), param_hint=exc.option) from None
    except Busy as exc:
        click.echo(f"mmtlite: busy: {exc}", err=True)
        sys.exit(BUSY)
    except (MmtliteError, sqlite3.Error) as exc:
        fail("mmtlite", str(exc))
    except OSError as exc:  # said with its path, without Python's [Errno n]
        where = f"{exc.filename}: " if exc.filename is not None else ""
        fail("mmtlite", f"{where}{exc.strerror or exc}")


Made = TypeVar("Made")


def _call(make: Callable[[], Made]) -> Made:
    with _refusals():
        return make()


@_command
@click.pass_obj
def init(settings: Settings) -> None:
    """Create the environment's database and landing folders (the writing commands also create
    the database on first use; the read-only ones never do).

    \b
    Example:
      mmtlite --home /srv/mmt --env sogl init
    """
    db = settings.db
    folders = _call(db.init)
    click.echo(f"database {db.database} (schema ready)")
    click.echo(f"{len(folders)} landing folders under {db.home}")


@_command
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
    results = _call(lambda: settings.db.validate(files))
    if output_format == "json":
        print_json(results)
    else:
        render.print_validation(results)
    if not all(result.ok for result in results):
        sys.exit(INPUT_ERRORS)


def _load_options(function: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option(
            "--force",
            is_flag=True,
            help="Let a known sequence gap or a mass delete through (written in the log).",
        ),
        click.option(
            "--error-budget",
            metavar="N|P%",
            callback=_a_budget,
            help="Bad rows a file may have and still load (its good rows): a count or a share. "
            "[default: 0 for EXCLCODE, DMCT and EPCL; 1% (at least 10) for the others]",
        ),
        click.option(
            "--max-delete",
            type=click.FloatRange(0, 100),
            default=20.0,
            show_default=True,
            callback=_a_number,
            metavar="PCT",
            help="Share of a list a file may remove (by ALL or REMOVE) without --force.",
        ),
        click.option(
            "--max-size",
            type=click.IntRange(0, SQLITE_MAX >> 20),
            default=MAX_SIZE >> 20,
            show_default=True,
            metavar="MB",
            help="A bigger file (in MiB) is refused without being read.",
        ),
        _FORMAT,
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _a_number(context: click.Context, parameter: click.Parameter, value: float) -> float:
    """A per cent of ``FloatRange(0, 100)``, NaN refused."""
    if value != value:  # NaN: FloatRange lets it through, and NaN > x is never true
        raise click.BadParameter("not a number", context, parameter)
    return value


def _a_budget(
    context: click.Context, parameter: click.Parameter, value: str | None
) -> Budget | None:
    with _refusals():
        return Budget.parse(value) if value is not None else None


@_command
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
    db = settings.db
    _report_run(lambda on_file: db.load(files, **_options(given), on_file=on_file), given)


@_command
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
    db = settings.db
    _report_run(lambda on_file: db.ingest(**_options(given), on_file=on_file), given)


def _options(given: dict[str, Any]) -> dict[str, Any]:
    return {
        "force": given["force"],
        "budget": given["error_budget"],
        "max_delete": given["max_delete"] / 100,
        "max_size": given["max_size"] << 20,
    }


def _report_run(run: Callable[[OnFile | None], RunResult], given: dict[str, Any]) -> None:
    with _refusals(), files_bar(wanted(given["quiet"])) as on_file:
        result = run(on_file)
    if given["output_format"] == "json":
        print_json(run_report(result))
    else:
        render.print_run(result)
    if not result.clean:
        sys.exit(INPUT_ERRORS)


@_command
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.pass_obj
def set_aside(settings: Settings, files: tuple[str, ...]) -> None:
    """Move refused FILES out of their inbound folder into rejected/ beside it, where ingest
    never looks: a file that will never load stops being tried (and logged) on every ingest.
    Each move is logged once. Moving a file back into inbound/ makes ingest try it again.

    \b
    Example:
      mmtlite set-aside mmt/mmt/system_data_build/manexcl/inbound/MANEXCL_BUILD_20240105093000.csv
    """
    for moved in _call(lambda: settings.db.set_aside(files)):
        click.echo(f"set aside {moved.file}: moved to {moved.moved_to}")


@_command
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
    counts = _call(settings.db.status)
    if output_format == "json":
        print_json(counts)
    else:
        render.print_status(counts)


@_command
@click.option(
    "--size", type=click.IntRange(1, SQLITE_MAX), required=True, help="At most this many meters."
)
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
    selection = _call(lambda: settings.db.select(tranche_id, size))
    if output_format == "json":
        print_json(selection)
    else:
        render.print_selection(selection)


@_command
@click.argument("target", type=click.Choice(["cs", "mdm", "dcc"]))
@click.option("--tranche", "tranche_id", required=True, metavar="ID")
@click.option(
    "--note-code", metavar="CODE", help="cs: the note code each row carries. [default: S1MIG]"
)
@click.option(
    "--migration-date",
    type=click.DateTime(["%Y%m%d"]),
    metavar="YYYYMMDD",
    help="mdm: the migration date (required for mdm).",
)
@_FORMAT
@click.pass_obj
def export(
    settings: Settings,
    target: str,
    tranche_id: str,
    note_code: str | None,
    migration_date: datetime | None,
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
    if note_code is not None and target != "cs":
        raise click.UsageError(f"--note-code is for export cs, not export {target}")
    if migration_date is not None and target != "mdm":
        raise click.UsageError(f"--migration-date is for export mdm, not export {target}")
    day = migration_date.date() if migration_date is not None else None
    exported = _call(
        lambda: settings.db.export(
            target,  # type: ignore[arg-type]  # a click Choice of the targets
            tranche_id,
            note_code=note_code or "S1MIG",
            migration_date=day,
        )
    )
    if output_format == "json":
        print_json(exported)
    else:
        render.print_export(exported)


@_command
@click.argument("system", type=click.Choice(["dcc", "cs", "mdm"]))
@click.option("--tranche", "tranche_id", required=True, metavar="ID")
@click.option(
    "--fail",
    type=click.FloatRange(0, 100),
    default=2.0,
    show_default=True,
    metavar="PCT",
    callback=_a_number,
    help="Per cent of the rows the system rejects (DCC) or fails (CS, MDM).",
)
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
    made = _call(
        lambda: settings.db.respond(
            system,  # type: ignore[arg-type]  # a click Choice of the systems
            tranche_id,
            fail=fail / 100,
            seed=seed,
        )
    )
    render.print_answer(made)


@_command
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
    story = _call(lambda: settings.db.history(msn))
    if story is None:
        fail("mmtlite", f"meter {msn} is not known in {settings.env}")
    if output_format == "json":
        print_json(story)
    else:
        render.print_story(story)


@_command
@_TABULAR_FORMAT
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, readable=False, allow_dash=True),
    metavar="FILE",
    help="Also write the report as one self-contained HTML page with charts (- for stdout: "
    "then the page is the only output).",
)
@click.option(
    "--wide",
    is_flag=True,
    help="Every column, each as wide as its cells (the table: else it fits the terminal, 80 "
    "columns when redirected, with long cells folded, never cut).",
)
@click.pass_context
def report(context: click.Context, output_format: str, html_file: str | None, wide: bool) -> None:
    """Where the migration stands: meters by status, exclusions and holds by reason (each
    meter once, under its first cause, with the share that comes from a site-mate), conflicts
    (tranche meters the lists would now exclude), and each tranche's progress (the DCC's, CS's
    and MDM's answers, the files written).

    \b
    Example:
      mmtlite report --html migration.html
      mmtlite report --format csv > report.csv
    """
    settings = context.find_object(Settings)
    assert settings is not None
    page_only = html_file == STDOUT
    if page_only and given(context, "output_format"):
        raise click.UsageError("--html - writes the page to stdout: it cannot go with --format")
    made = _call(lambda: settings.db.report(html=html_file))
    if page_only:
        return
    if output_format == "json":
        print_json(made)
    elif output_format == "csv":
        render.write_csv(("section", "group", "measure", "value"), report_rows(made))
    else:
        render.print_report(made, wide)
        if html_file is not None:
            click.echo(f"HTML report: {html_file}", err=True)


@_command
@click.option("--limit", type=click.IntRange(1, SQLITE_MAX), default=20, show_default=True)
@_TABULAR_FORMAT
@click.pass_obj
def log(settings: Settings, limit: int, output_format: str) -> None:
    """The activity log, newest first: per file, its run, start and end, outcome and rows read,
    added, changed, removed, rejected.

    \b
    Example:
      mmtlite log --limit 5
    """
    entries = _call(lambda: settings.db.log(limit))
    render.print_rows(entries, output_format, render.print_log)


@_command
@click.option("--file", "file_name_", metavar="NAME", help="Only this file (its name or path).")
@click.option(
    "--load",
    "load_id",
    type=click.IntRange(1, SQLITE_MAX),
    metavar="ID",
    help="Only this log entry.",
)
@click.option("--limit", type=click.IntRange(1, SQLITE_MAX), default=100, show_default=True)
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
    rows = _call(lambda: settings.db.errors(file=file_name_, load_id=load_id, limit=limit))
    render.print_rows(rows, output_format, render.print_errors)


@_command
@click.argument("category", type=click.Choice(sorted(INBOUND), case_sensitive=False))
@click.option("--sequence", default=1, show_default=True, type=click.IntRange(1, MAX_SEQUENCE))
@click.pass_obj
def template(settings: Settings, category: str, sequence: int) -> None:
    """Print an empty file of CATEGORY (header and trailer) on stdout; on stderr, the name it
    should carry and its columns (the rows go between header and trailer).

    \b
    Example:
      mmtlite --env sogl template NONCOMM > NONCOMM.csv
    """
    made = _call(lambda: settings.db.template(category, sequence=sequence))
    click.echo(f"# {made.name}", err=True)
    click.echo(f"# columns: {'|'.join(made.columns)}", err=True)
    sys.stdout.buffer.write(made.content)


@_command
@click.argument("category", type=click.Choice(sorted(INBOUND), case_sensitive=False))
@click.argument("rows", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--action",
    type=click.Choice(ACTIONS, case_sensitive=False),
    help="Add this action to every row (when the rows do not carry one).",
)
@click.option("--sequence", type=click.IntRange(1, MAX_SEQUENCE), help="[default: the next one]")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, allow_dash=True),
    metavar="DIR|-",
    help="The folder the file goes into (its name is made: category, environment, stamp), or "
    "- for stdout. [default: the category's inbound folder]",
)
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
    column names skipped; - for stdin) into a proper inbound file: header, trailer, the next
    sequence and a stamped name. Written only if every row is valid (exit 1 otherwise, with the
    reasons).

    \b
    Example:
      mmtlite wrap MANEXCL exclusions.csv --action ADD
    """
    wrapped = _call(
        lambda: settings.db.wrap(category, rows, action=action, sequence=sequence, output=output)
    )
    if not wrapped.ok:
        render.print_validation([mmtlite.results.validation(wrapped.checked)])
        fail("mmtlite", "nothing written: fix the rows above")
    if wrapped.path != STDOUT:
        click.echo(
            f"{wrapped.path} ({len(wrapped.checked.rows):,} rows, sequence "
            f"{wrapped.checked.sequence})"
        )


@_command
@click.pass_obj
def check_db(settings: Settings) -> None:
    """Check every page and index entry of the environment's database (SQLite's integrity
    check: seconds at a million meters). Exit 1 if it is damaged: restore it from a backup.

    \b
    Example:
      mmtlite --env prod check-db
    """
    db = settings.db
    found = _call(db.check)
    if not found:
        click.echo(f"ok {db.database}: the integrity check found nothing wrong")
        return
    click.echo(f"mmtlite: {db.database} is damaged: restore it from a backup", err=True)
    for line in found:
        click.echo(f"  {line}", err=True)
    sys.exit(INPUT_ERRORS)


@_command
@click.option(
    "--meters",
    type=click.IntRange(0, MAX_METERS),
    required=True,
    help=f"Meters in the master list (at most {MAX_METERS:,}).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--created",
    type=click.DateTime(["%Y%m%d%H%M%S"]),
    default="20240101090000",
    show_default=True,
    metavar="YYYYMMDDHHMMSS",
    help="Creation stamp of the first file (names and headers; the others follow by a second).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Write the files into this folder. [default: the environment's inbound folders]",
)
@click.pass_obj
def generate(
    settings: Settings, meters: int, seed: int, created: datetime, output: str | None
) -> None:
    """Write a realistic synthetic set of inbound files (codes, DMCT, EPCL, the master list of
    METERS meters on sites of one to four, non-comms, manual exclusions, to-dos, status
    changes): the same arguments always give the same bytes.

    \b
    Example:
      mmtlite generate --meters 1000000 --seed 7 -o /tmp/mmt-files
    """
    made = _call(lambda: settings.db.generate(meters, seed=seed, created=created, output=output))
    for generated, path in made:
        click.echo(f"{path} ({generated.rows:,} rows)")


def main() -> None:
    run_guarded(cli, "mmtlite")
