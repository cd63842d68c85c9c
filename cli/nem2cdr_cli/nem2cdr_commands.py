"""The ``nem2cdr`` command: a thin click shell over the ``nem2cdr`` library."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import click
import msgspec

import nem2cdr
from nem2cdr.pages import MAX_PAGE_SIZE, PageError
from nem2cdr.parallel import Workers
from nem2cdr.usage import DEFAULT_BASE_URL, DEFAULT_NAMESPACE, ConvertOptions, OptionsError
from nem2cdr_cli.errors import INPUT_ERRORS, Group, cannot_write, fail, given, run_guarded, writing
from nem2cdr_cli.output import F, console, format_option, output_option, print_json
from nem2cdr_cli.progress import file_bar, stages_bar, wanted
from nem2cdr_cli.render import (
    print_check,
    print_diagnostics_summary,
    print_experiments,
    print_validation,
)

FORMAT_OPTION = format_option("json")


class WorkersType(click.ParamType[Workers]):
    """``--workers N|auto``: how many processes a command may use."""

    name = "N|auto"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Workers:
        if value == "auto":
            return "auto"
        text = str(value)
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"{text!r} is neither a whole number from 1 nor 'auto'", param, ctx)


STRICT_OPTION = click.option(
    "--strict", is_flag=True, help="Treat every tolerated deviation as an error."
)


def workers_option(auto: str = "one per core") -> Callable[[F], F]:
    """``--workers N|auto`` with what ``auto`` means for the command."""
    return click.option(
        "--workers",
        type=WorkersType(),
        default="auto",
        show_default=True,
        help=f"Processes to use: a number (1: never fork) or auto ({auto}).",
    )


WORKERS_OPTION = workers_option()


def id_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that shape each servicePointId, export sign and controlledLoad (convert
    and serve take the same)."""
    for option in reversed(_ID_OPTIONS):
        command = option(command)
    return command


_ID_OPTIONS = [
    click.option(
        "--service-point-id",
        type=click.Choice(["uuid", "nmi"]),
        default="uuid",
        show_default=True,
        help="A deterministic UUID of the NMI, or the NMI itself (as AEMO's API; not for real "
        "responses, whose ids must carry no meaning).",
    ),
    click.option("--namespace", type=click.UUID, help="Namespace of the servicePointId UUIDs."),
    click.option(
        "--id-secret",
        envvar="NEM2CDR_ID_SECRET",
        metavar="SECRET",
        help="servicePointId per data recipient: a keyed hash (HMAC-SHA256) of the NMI as a UUID; "
        "one secret per recipient, at least 16 bytes (better from $NEM2CDR_ID_SECRET).",
    ),
    click.option(
        "--export-sign",
        type=click.Choice(["negative", "as-is"]),
        default="negative",
        show_default=True,
        help="Negate export streams (suffix B..., NEM13 direction I).",
    ),
    click.option(
        "--controlled-load",
        metavar="ID,...",
        help="Suffixes or register ids that are controlled load (controlledLoad is never guessed).",
    ),
]


def id_settings(
    service_point_id: str,
    namespace: uuid.UUID | None,
    id_secret: str | None,
    export_sign: str,
    controlled_load: str | None,
) -> ConvertOptions:
    """The options ``id_options`` gave, as ``ConvertOptions`` (a usage error when they
    contradict each other)."""
    if namespace is not None and service_point_id == "nmi":
        raise click.UsageError(
            "--namespace shapes UUIDs: it means nothing with --service-point-id nmi"
        )
    try:
        return ConvertOptions(
            service_point_id=service_point_id,  # type: ignore[arg-type]
            namespace=namespace or DEFAULT_NAMESPACE,
            id_secret=id_secret.encode() if id_secret is not None else None,
            export_sign=export_sign,  # type: ignore[arg-type]
            controlled_load=frozenset(filter(None, (controlled_load or "").split(","))),
        )
    except OptionsError as exc:
        raise click.UsageError(str(exc)) from exc


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(nem2cdr.__version__, prog_name="nem2cdr")
def cli() -> None:
    """Read AEMO NEM12/NEM13 meter data exactly and turn it into CDR energy usage payloads.

    \b
    Example:
      nem2cdr validate 'samples/NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv'
    """


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@STRICT_OPTION
@FORMAT_OPTION
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def validate(files: tuple[str, ...], strict: bool, output_format: str, quiet: bool) -> None:
    """Check NEM12/NEM13 files (.csv or .zip, '-' for standard input).

    Every problem is reported with its file, line and a stable code (NEM12-Ennn: the day or
    record is skipped; NEM12-Wnnn: a deviation read without loss). Exit 0 when every file is
    valid, 1 when any has errors, 2 on a usage error.

    \b
    Example:
      nem2cdr validate --format json data/*.zip
    """
    reports = []
    for name in files:
        with file_bar(name, wanted(quiet)) as on_progress:
            reports.append(nem2cdr.validate(name, strict=strict, on_progress=on_progress))
    if output_format == "json":
        print_json(reports)
    else:
        print_validation(reports, console())
    if not all(report.ok for report in reports):
        sys.exit(INPUT_ERRORS)


@cli.command()
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write ('-' for standard output).",
)
@click.option("--nmis", default=1, show_default=True, type=click.IntRange(1), help="NMIs.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1), help="Days.")
@click.option(
    "--interval",
    default="30",
    show_default=True,
    type=click.Choice(["5", "15", "30"]),
    help="Interval length in minutes.",
)
@click.option(
    "--start",
    default="2024-01-01",
    show_default=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option("--solar/--no-solar", default=True, show_default=True, help="B1 export streams.")
@click.option(
    "--controlled-load/--no-controlled-load",
    default=None,
    help="E2 controlled-load streams on every NMI / on none  [default: every third NMI].",
)
@click.option("--zip", "as_zip", is_flag=True, help="Write a .zip holding the CSV.")
def generate(
    output: str,
    nmis: int,
    days: int,
    interval: str,
    start: dt.datetime,
    seed: int,
    solar: bool,
    controlled_load: bool | None,
    as_zip: bool,
) -> None:
    """Write a realistic, deterministic synthetic NEM12 file of any size.

    Household load, solar export, controlled load on some NMIs, substituted days with 400
    records and 500 records; the same options always give the same bytes.

    \b
    Example:
      nem2cdr generate --nmis 100 --days 365 --interval 5 -o big.csv
    """
    try:
        nem2cdr.generate(
            output,
            nmis=nmis,
            days=days,
            interval=int(interval),
            start=start.date(),
            seed=seed,
            solar=solar,
            controlled_load=controlled_load,
            as_zip=as_zip,
        )
    except BrokenPipeError:
        raise  # a reader that stopped early (`| head`): the group ends quietly
    except OSError as exc:
        cannot_write("nem2cdr generate", exc, output)


@cli.command()
@click.argument("file", type=click.Path(allow_dash=True))
@output_option("the response")
@click.option(
    "--interval-reads",
    type=click.Choice(["NONE", "MIN_30", "FULL"]),
    default="NONE",
    show_default=True,
    help="The standard's interval-reads: aggregate only, half-hours, native.",
)
@click.option("--oldest-date", type=click.DateTime(["%Y-%m-%d"]), help="First day (inclusive).")
@click.option("--newest-date", type=click.DateTime(["%Y-%m-%d"]), help="Last day (inclusive).")
@click.option("--page", type=click.IntRange(1), help="Write only this page (from 1).")
@click.option(
    "--page-size",
    type=click.IntRange(1, MAX_PAGE_SIZE),
    help=f"Records per page (the standard's default is 25, at most {MAX_PAGE_SIZE}).",
)
@click.option(
    "--all-pages",
    type=click.Path(file_okay=False),
    help="Write every page into this folder (page-0001.json, ...).",
)
@click.option("--jsonl", is_flag=True, help="One EnergyUsageRead per line, no envelope.")
@click.option(
    "--whole-file",
    is_flag=True,
    help="NON-STANDARD: one response holding every record even past 1,000 reads "
    "(a dump, not a CDR response: check rejects it).",
)
@id_options
@click.option("--base-url", help="Base of the links (self, first, prev, next, last).")
@STRICT_OPTION
@click.option(
    "--keep-going",
    is_flag=True,
    help="Write the good records even when the file has errors (they are still reported).",
)
@WORKERS_OPTION
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def convert(
    file: str,
    output: str,
    interval_reads: str,
    oldest_date: dt.datetime | None,
    newest_date: dt.datetime | None,
    page: int | None,
    page_size: int | None,
    all_pages: str | None,
    jsonl: bool,
    whole_file: bool,
    service_point_id: str,
    namespace: uuid.UUID | None,
    id_secret: str | None,
    export_sign: str,
    controlled_load: str | None,
    base_url: str | None,
    strict: bool,
    keep_going: bool,
    workers: Workers,
    quiet: bool,
) -> None:
    """Write CDR EnergyUsageListResponse JSON from a NEM12/NEM13 file.

    Without --page/--page-size one response holds every record, as long as they fit one
    standard page (1,000 reads); past that it is a usage error that names --page,
    --all-pages and --jsonl (or the non-standard --whole-file). With them, exactly that page
    (meta and links as the standard says). Records are in the standard's order (NMI, then
    readStartDate descending, then registerSuffix). A file with errors writes nothing and exits
    1, unless --keep-going. The same input and options always give the same bytes. A large
    plain .csv is converted on two cores (its halves in two processes, merged) unless
    --workers 1.

    \b
    Example:
      nem2cdr convert --interval-reads FULL data.zip -o usage.json
    """
    if all_pages is not None and given(click.get_current_context(), "output"):
        raise click.UsageError("--all-pages writes its own files: it takes no -o/--output")
    ids = id_settings(service_point_id, namespace, id_secret, export_sign, controlled_load)
    try:
        options = msgspec.structs.replace(
            ids,
            interval_reads=interval_reads,
            oldest_date=oldest_date.date() if oldest_date else None,
            newest_date=newest_date.date() if newest_date else None,
            base_url=base_url or DEFAULT_BASE_URL,
        )
    except OptionsError as exc:
        raise click.UsageError(str(exc)) from exc
    with (
        writing("nem2cdr convert", output, (PageError,)),
        file_bar(file, wanted(quiet)) as on_progress,
    ):
        result = nem2cdr.convert(
            file,
            output,
            options,
            page=page,
            page_size=page_size,
            all_pages=all_pages,
            jsonl=jsonl,
            whole_file=whole_file,
            strict=strict,
            keep_going=keep_going,
            on_progress=on_progress,
            workers=workers,
        )
    print_diagnostics_summary(result.diagnostics)
    if not result.ok:
        fail("nem2cdr convert", "the file has errors; nothing written")


@cli.command(name="export")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--to", "to", required=True, type=click.Choice(["csv", "parquet"]), help="The table format."
)
@output_option("the table")
@click.option(
    "--shape",
    type=click.Choice(["long", "daily"]),
    default="long",
    show_default=True,
    help="A row per interval, or a row per NMI, suffix and day with the values as a list.",
)
@click.option(
    "--keep-superseded",
    is_flag=True,
    help="Keep days a later copy replaces, flagged in a 'superseded' column.",
)
@STRICT_OPTION
@click.option(
    "--keep-going",
    is_flag=True,
    help="Export the good records even when a file has errors (they are still reported).",
)
@workers_option("two from three cores on: the writer has a thread of its own")
def export_command(
    files: tuple[str, ...],
    to: str,
    output: str,
    shape: str,
    keep_superseded: bool,
    strict: bool,
    keep_going: bool,
    workers: Workers,
) -> None:
    """Write the interval data of NEM12/NEM13 files as a CSV or Parquet table.

    The files are read as one input: a day given twice is kept once (the later
    UpdateDateTime, then the later copy, as convert decides). Values are exactly the file's:
    its text in CSV, decimals in Parquet; times are the NEM's, UTC+10:00. NEM13 reads go to a
    table of their own, beside the output as NAME-accumulation.EXT when there is interval
    data too. Files with errors export nothing and exit 1, unless --keep-going.

    \b
    Example:
      nem2cdr export --to parquet data/*.zip -o intervals.parquet
    """
    from nem2cdr.tables import DecimalTooWide, MissingExtra

    if "-" in files:
        raise click.UsageError("export reads its files twice: standard input cannot be one")
    with writing("nem2cdr export", output, (MissingExtra, DecimalTooWide)):
        result = nem2cdr.export(
            list(files),
            output,
            to=to,  # type: ignore[arg-type]
            shape=shape,  # type: ignore[arg-type]
            keep_superseded=keep_superseded,
            keep_going=keep_going,
            strict=strict,
            workers=workers,
        )
    print_diagnostics_summary(result.diagnostics)
    if not result.ok:
        fail("nem2cdr export", "the files have errors; nothing written")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@FORMAT_OPTION
def check(files: tuple[str, ...], output_format: str) -> None:
    """Check usage payloads against the official CDR schema (v1.36.0) and the rules it cannot
    express: the readUType union, interval counts, exact aggregateValue, readQualities ranges,
    dates and order. Works on any EnergyUsageListResponse, or JSON Lines of reads.

    \b
    Example:
      nem2cdr check usage.json
    """
    reports = []
    for name in files:
        source = sys.stdin.buffer if name == "-" else name
        reports.append(nem2cdr.CheckReport(name, nem2cdr.check(source)))
    if output_format == "json":
        print_json(reports)
    else:
        print_check(reports, console())
    if any(report.problems for report in reports):
        sys.exit(INPUT_ERRORS)


@cli.command(name="experiments")
@click.argument("file", type=click.Path(allow_dash=True))
@click.option(
    "--only", metavar="ID,...", help="Run only these experiments (ids, names or ranges: 00-07)."
)
@click.option(
    "--codecs",
    default="default",
    show_default=True,
    help="default (gzip:6,zstd:3,brotli:5), max (adds gzip:9,zstd:19,brotli:11) or name:level,...",
)
@click.option("--out-dir", type=click.Path(file_okay=False), help="Write each payload here.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv", "markdown"]),
    default="table",
    show_default=True,
    help="How to print the report.",
)
@click.option(
    "--chart", type=click.Path(dir_okay=False), help="Draw the sizes as an SVG chart (a file)."
)
@click.option(
    "--requests",
    default=300,
    show_default=True,
    type=click.IntRange(1),
    help="Cost model: concurrent requests.",
)
@click.option(
    "--budget",
    default=4.5,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Cost model: seconds to answer them (the NFR).",
)
@click.option(
    "--aud-per-mbit",
    default=51_000.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Cost model: AUD per Mbit/s per year.",
)
@click.option(
    "--served-cpu",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Cost model: the server's CPU per response, as a load run of 'nem2cdr serve' "
    "measured it (benchmarks/load_serve.py --served-out FILE).",
)
@click.option(
    "--wide", is_flag=True, help="The table: every column in one table, as wide as it takes."
)
@click.option(
    "--thread-compat",
    is_flag=True,
    help="Write 00-07 as the 2022 thread's script did (shuffled keys, 3 figures, its bugs).",
)
@click.option("--seed", type=click.IntRange(0), help="--thread-compat: key order seed [0].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@WORKERS_OPTION
def experiments_command(
    file: str,
    only: str | None,
    codecs: str,
    out_dir: str | None,
    output_format: str,
    chart: str | None,
    requests: int,
    budget: float,
    aud_per_mbit: float,
    served_cpu: str | None,
    wide: bool,
    thread_compat: bool,
    seed: int | None,
    quiet: bool,
    workers: Workers,
) -> None:
    """Encode the same meter data under every payload experiment and measure it.

    The 2022 standards thread's experiments (00-07), the adopted standard (08-10) and encodings
    of our own (11+): raw and compressed bytes, change against 00, encode and decode time, a
    proven round trip for every lossless encoding (a failed one exits 1), page sizes at 25 and
    1000 records, and what the bytes cost in bandwidth and money.

    \b
    Example:
      nem2cdr experiments 'samples/NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv'
    """
    import nem2cdr_experiments as suite

    if chart == "-":
        raise click.UsageError("--chart needs a file: standard output holds the report")
    if "" in (chart, out_dir):
        raise click.UsageError("--chart and --out-dir need a name")
    if seed is not None and not thread_compat:
        raise click.UsageError("--seed orders the keys of --thread-compat: give both")

    model = suite.CostModel(
        requests=requests, budget_seconds=budget, aud_per_mbit_year=aud_per_mbit
    )
    try:
        if chart:
            suite.check_file(chart)  # before the run, not after it
        served = suite.read_served(served_cpu) if served_cpu else None
        with stages_bar(wanted(quiet)) as on_progress:
            result = suite.run(
                file,
                only=only.split(",") if only else None,
                codecs=codecs,
                model=model,
                out_dir=out_dir,
                workers=workers,
                on_progress=on_progress,
                thread_compat=thread_compat,
                seed=seed or 0,
                served=served,
            )
    except (suite.LoadError, suite.OutputError) as exc:
        fail("nem2cdr experiments", str(exc))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    print_experiments(result, output_format, wide)
    if chart:
        from nem2cdr_experiments.chart import write_chart

        write_chart(result, Path(chart))
    for failed in result.failed:
        click.echo(
            f"nem2cdr experiments: {failed.id} {failed.name} does not round-trip: "
            f"{failed.roundtrip_problem}",
            err=True,
        )
    if result.failed:
        sys.exit(INPUT_ERRORS)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--store",
    type=click.Path(dir_okay=False),
    help="The store's SQLite file  [default: one per set of inputs, in ~/.cache/nem2cdr].",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESS",
    help="Address to listen on (the default: this machine only).",
)
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The date the default newest-date is (for reproducible answers)  "
    "[default: the server's date].",
)
@click.option(
    "--token",
    envvar="NEM2CDR_SERVE_TOKEN",
    metavar="TOKEN",
    help="Require 'Authorization: Bearer TOKEN' (401 without it); better from "
    "$NEM2CDR_SERVE_TOKEN.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Processes.")
@click.option(
    "--gzip-level", default=6, show_default=True, type=click.IntRange(1, 9), help="gzip level."
)
@click.option(
    "--br-level", default=5, show_default=True, type=click.IntRange(0, 11), help="Brotli level."
)
@click.option(
    "--zstd-level", default=3, show_default=True, type=click.IntRange(1, 22), help="zstd level."
)
@click.option(
    "--cache-mb",
    default=64,
    show_default=True,
    type=click.IntRange(0),
    help="Encoded pages kept per process, in MiB (0: none).",
)
@id_options
@click.option("--access-log", is_flag=True, help="Log every request on standard error.")
def serve(
    paths: tuple[str, ...],
    store: str | None,
    host: str,
    port: int,
    today: dt.datetime | None,
    token: str | None,
    workers: int,
    gzip_level: int,
    br_level: int,
    zstd_level: int,
    cache_mb: int,
    service_point_id: str,
    namespace: uuid.UUID | None,
    id_secret: str | None,
    export_sign: str,
    controlled_load: str | None,
    access_log: bool,
) -> None:
    """Serve the CDR electricity usage endpoints from NEM12/NEM13 files, zips and folders
    (a folder: its .csv and .zip files).

    The files are read once into a SQLite store (--store); a restart with the same files
    (path, size, modification time) reuses it without reading them, files added at the end
    are read and added, and any other change rebuilds it. A day given twice keeps the copy
    convert keeps. The data holder's routes (GET .../servicepoints/{id}/usage, GET and POST
    .../servicepoints/usage) and AEMO's secondary-holder routes (under /secondary, where the
    id is the NMI) answer each page with the bytes convert writes for the same query and
    --base-url, compressed as Accept-Encoding asks (zstd, br, gzip). Files with errors add
    their good records. Stop with Ctrl-C.

    \b
    Example:
      nem2cdr serve data/ --store usage.sqlite --port 8080
    """
    from nem2cdr import store as stores
    from nem2cdr.encodings import Levels
    from nem2cdr.serving import ServeOptions, check_address, run

    ids = id_settings(service_point_id, namespace, id_secret, export_sign, controlled_load)
    if token is not None and (not token or token != token.strip()):
        # HTTP drops white space around a header's value: no request could carry it.
        raise click.BadParameter(
            "empty, or white space at an end: no request can carry it", param_hint="--token"
        )
    try:
        check_address(host, port)
    except OSError as exc:
        click.echo(
            f"nem2cdr serve: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True
        )
        sys.exit(INPUT_ERRORS)
    path = store or stores.default_path(paths)
    try:
        loaded = stores.load(
            paths, path, on_file=lambda name: click.echo(f"reading {name}", err=True)
        )
    except stores.StoreError as exc:
        fail("nem2cdr serve", str(exc))
    print_diagnostics_summary(loaded.diagnostics)
    click.echo(
        f"store {loaded.path}: {loaded.action}, {loaded.files} files, {loaded.records:,} records",
        err=True,
    )
    options = ServeOptions(
        store=loaded.path,
        convert=ids,
        today=today.date() if today else None,
        token=token,
        levels=Levels(gzip=gzip_level, br=br_level, zstd=zstd_level),
        cache_bytes=cache_mb << 20,
    )
    where = f"[{host}]" if ":" in host else host  # an IPv6 address is bracketed in a URL
    click.echo(f"serving on http://{where}:{port}/cds-au/v1 (Ctrl-C stops)", err=True)
    run(options, host=host, port=port, workers=workers, access_log=access_log)


def main() -> None:
    run_guarded(cli, "nem2cdr")
