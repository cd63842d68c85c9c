"""How reports look on a terminal (rich) and as JSON for scripts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from nem2cdr.diagnostics import Diagnostics
from nem2cdr.model import Diagnostic
from nem2cdr.validation import ValidationReport
from nem2cdr_cli.output import console, escape, stderr_console

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from nem2cdr.checking import CheckReport
    from nem2cdr_experiments.runner import Result, Run


def _finding_line(finding: Diagnostic, file: str) -> str:
    where = f" line {finding.line}" if finding.line is not None else ""
    member = "" if finding.file == file else f" in {escape(finding.file.removeprefix(file + ':'))}"
    return f"  {finding.code}{member}{where}: {escape(finding.message)}"


def print_validation(reports: list[ValidationReport], console: Console) -> None:
    for report in reports:
        stats = report.stats
        mark = "[green]ok[/]" if report.ok else "[bold red]FAILED[/]"
        counts = (
            f"{stats.nmis} NMIs, {stats.streams} streams, {stats.days:,} days, "
            f"{stats.basic_reads:,} basic reads, {stats.values:,} values"
        )
        tally = f"{len(report.errors) + report.errors_not_listed} errors, " + (
            f"{len(report.warnings) + report.warnings_not_listed} warnings"
        )
        console.print(f"{mark} {escape(report.file)}: {counts}; {tally}", highlight=False)
        for finding in report.errors:
            console.print(f"[red]{_finding_line(finding, report.file)}[/]", highlight=False)
        if report.errors_not_listed:
            console.print(f"  [red]... and {report.errors_not_listed} more errors[/]")
        for finding in report.warnings:
            console.print(f"[yellow]{_finding_line(finding, report.file)}[/]", highlight=False)
        if report.warnings_not_listed:
            console.print(f"  [yellow]... and {report.warnings_not_listed} more warnings[/]")


def print_check(reports: list[CheckReport], console: Console) -> None:
    for report in reports:
        if report.ok:
            console.print(f"[green]ok[/] {escape(report.file)}")
            continue
        listed = sum(problem.code != "CDR-E020" for problem in report.problems)
        if listed < len(report.problems):  # CDR-E020 ends the list: it counts the rest
            count = f"more than {listed:,} problems"
        else:
            count = f"{listed:,} problem{'' if listed == 1 else 's'}"
        console.print(f"[bold red]FAILED[/] {escape(report.file)}: {count}")
        for problem in report.problems:
            where = escape(problem.where or "$")
            console.print(f"[red]  {problem.code} {where}: {escape(problem.message)}[/]")


def print_diagnostics_summary(found: Diagnostics, out: Console | None = None) -> None:
    """Errors one per line on stderr; warnings counted by code (``validate`` lists them)."""
    if not (found.errors or found.warning_count):
        return
    console = out or stderr_console()
    for diagnostic in found.errors:
        where = f" line {diagnostic.line}" if diagnostic.line is not None else ""
        console.print(
            f"{diagnostic.code} {escape(diagnostic.file)}{where}: {escape(diagnostic.message)}"
        )
    if found.warning_count:
        codes = ", ".join(
            f"{code} x{n}" for code, n in sorted(found.by_code.items()) if code[6] == "W"
        )
        console.print(f"{found.warning_count} warnings ({codes}); nem2cdr validate lists them")


def print_experiments(run: Run, output_format: str, wide: bool = False) -> None:
    """The experiments report in the chosen format on stdout."""
    from nem2cdr_experiments import report

    if output_format == "json":
        sys.stdout.buffer.write(report.as_json(run))
    elif output_format == "csv":
        sys.stdout.write(report.as_csv(run))
    elif output_format == "markdown":
        sys.stdout.write(report.as_markdown(run))
    elif wide:
        _experiments_table(run)
    else:
        _experiments_narrow(run)


def _experiments_table(run: Run) -> None:
    """Everything in one table, as wide as it takes (``--wide``): no cell is cut, the lines
    are as long as the table, on a terminal or in a file."""
    from rich.measure import Measurement
    from rich.table import Table

    from nem2cdr_experiments.report import cost_codec

    codec = cost_codec(run)
    grid = Table(
        title=f"{escape(run.file)}: {run.reads:,} reads, {run.values:,} values",
        caption=f"bytes (change against 00); on {codec}: Mbit/s and AUD/year of the "
        "thread's cost model, the plain model, the first page at 25 and 1000 records, the CPU "
        f"to encode and compress one response and the cores for {run.cost_model.requests:,} "
        "requests/s compressing on the fly"
        + ("; the server's CPU per response and its cores (served)" if run.served else ""),
    )
    grid.add_column("id")
    grid.add_column("name")
    grid.add_column("round trip")
    grid.add_column("raw", justify="right")
    for label in run.codecs:
        grid.add_column(label, justify="right")
    for name in (
        "encode ms",
        "decode ms",
        "Mbit/s",
        "AUD M/year",
        "plain Mbit/s",
        "page 25",
        "page 1000",
        "cpu ms",
        "cores",
    ):
        grid.add_column(name, justify="right")
    if run.served is not None:
        grid.add_column("served ms", justify="right")
        grid.add_column("served cores", justify="right")
    for result in run.experiments:
        served = _served_on(result, codec) if run.served is not None else []
        grid.add_row(*_experiment_cells(result, run.codecs, codec), *served)
    out = console()
    natural = Measurement.get(out, out.options.update_width(1 << 16), grid).maximum
    out.width = max(out.width, natural)
    out.print(grid)
    _served_source(run, out)
    _rationales(run, out)


_NARROW_CODECS = 3  # codecs per sizes table: three fit 80 columns


def _experiments_narrow(run: Run) -> None:
    """The default view, for 80 columns: sizes (kB and change against 00, a table per three
    codecs), then time, cost and first pages on the cost model's codec; names below."""

    from nem2cdr_experiments.report import cost_codec

    out = console()
    out.print(escape(run.file))  # a long path may pass 80 columns: it is not a cell
    out.print(f"{run.reads:,} reads, {run.values:,} values; sizes in kB, change against 00")
    for labels in _codec_groups(run):
        sizes = _narrow_table()
        sizes.add_column("id")
        sizes.add_column("trip")
        for label in ["raw", *labels]:
            sizes.add_column(label, justify="right")
            sizes.add_column("change", justify="right")
        for result in run.experiments:
            cells = [result.id, result.roundtrip]
            raw = None if result.not_applicable else result.raw_bytes
            for size, change in [
                (raw, result.change_raw),
                *((result.compressed.get(label), result.change.get(label)) for label in labels),
            ]:
                cells += _narrow_size(size, change)
            sizes.add_row(*cells)
        out.print(sizes)
    if run.thread_compat:
        _published(run, out)
    codec = cost_codec(run)
    costs = _narrow_table()
    for name in ("id", "encode ms", "decode ms", "Mbit/s", "AUD M/yr", "plain Mbit/s"):
        costs.add_column(name, justify="left" if name == "id" else "right")
    costs.add_column("page 25", justify="right")
    costs.add_column("page 1000", justify="right")
    for result in run.experiments:
        costs.add_row(result.id, *_experiment_cells(result, run.codecs, codec)[-9:-2])
    out.print(f"on {codec}: time, the thread's cost model, the plain model, first pages")
    out.print(costs)
    requests = run.cost_model.requests
    for labels in _codec_groups(run):
        cpu = _narrow_table()
        cpu.add_column("id")
        cpu.add_column("encode ms", justify="right")
        for label in labels:
            cpu.add_column(label, justify="right")
            cpu.add_column("cores", justify="right")
        for result in run.experiments:
            cells = [result.id]
            if result.cpu is not None:
                cells.append(f"{result.cpu.encode_ms:.1f}")
                for label in labels:
                    cells.append(f"{result.cpu.compress_ms.get(label, 0):.1f}")
                    cells.append(f"{result.cpu.cores_on_the_fly.get(label, 0):.1f}")
            cpu.add_row(*cells)
        out.print(f"CPU ms per response to encode, to compress; cores at {requests:,}/s on the fly")
        out.print(cpu)
    if run.served is not None:
        _served_narrow(run, out)
    _rationales(run, out)


def _codec_groups(run: Run) -> list[list[str]]:
    """The run's codec labels, ``_NARROW_CODECS`` to a table."""
    codecs = run.codecs
    return [
        codecs[start : start + _NARROW_CODECS] for start in range(0, len(codecs), _NARROW_CODECS)
    ]


def _served_narrow(run: Run, out: Console) -> None:
    """--served-cpu: what ``nem2cdr serve`` spends on the standard's responses (08-10)."""
    served = [result for result in run.experiments if result.served is not None]
    if not served:  # a table of headers only would read as figures left out
        out.print("served: none of the adopted standard's responses (08-10) ran")
    else:
        requests = run.cost_model.requests
        for labels in _codec_groups(run):
            table = _narrow_table()
            table.add_column("id")
            for label in labels:
                table.add_column(f"{label} ms", justify="right")
                table.add_column("cores", justify="right")
            for result in served:
                cells = (cell for label in labels for cell in _served_on(result, label))
                table.add_row(result.id, *cells)
            out.print(f"served: the server's CPU ms per response; cores at {requests:,}/s")
            out.print(table)
    _served_source(run, out)


def _served_source(run: Run, out: Console) -> None:
    if run.served is not None:
        _print_wrapped(out, f"served figures measured by: {run.served.measured}", "", "  ")


def _print_wrapped(out: Console, line: str, first: str, rest: str) -> None:
    """A line of text (not a cell) folded to the console's width."""
    import textwrap

    folded = textwrap.fill(line, width=out.width - 1, initial_indent=first, subsequent_indent=rest)
    out.print(escape(folded))


def _served_on(result: Result, codec: str) -> list[str]:
    served = result.served
    if served is None or codec not in served.cpu_ms:
        return ["", ""]
    return [f"{served.cpu_ms[codec]:.1f}", f"{served.cores[codec]:.1f}"]


def _published(run: Run, out: Console) -> None:
    """--thread-compat: each gzip change beside the one the 2022 thread published ("?" where
    the sources do not give it)."""
    from nem2cdr_experiments.thread_compat import PUBLISHED_CODEC

    if PUBLISHED_CODEC not in run.codecs:
        out.print(f"the published figures are {PUBLISHED_CODEC} changes: add --codecs gzip:6")
        return
    table = _narrow_table()
    for name in ("id", "measured", "published", "difference"):
        table.add_column(name, justify="left" if name == "id" else "right")
    for result in run.experiments:
        measured = result.change.get(PUBLISHED_CODEC)
        published = result.published_gzip_change
        if result.id == "00" or measured is None:
            continue
        difference = "" if published is None else f"{measured - published:+.1f}"
        shown = "?" if published is None else f"{published:+.1f}%"
        table.add_row(result.id, f"{measured:+.1f}%", shown, difference)
    out.print(f"{PUBLISHED_CODEC} change against 00, measured and as the 2022 thread published")
    out.print(table)


def _narrow_table() -> Table:
    from rich import box
    from rich.table import Table

    return Table(box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False)


def _narrow_size(size: int | None, change: float | None) -> list[str]:
    """kB with one decimal below 1,000 kB, whole above; the change to one decimal place."""
    if size is None:
        return ["", ""]
    kilobytes = size / 1000
    shown = f"{kilobytes:,.1f}" if kilobytes < 1000 else f"{kilobytes:,.0f}"
    return [shown, "" if change is None or change == 0 else f"{change:+.1f}%"]


def _rationales(run: Run, out: Console) -> None:
    for result in run.experiments:
        line = f"{result.id} {result.name}: {result.rationale}"
        if result.not_applicable:
            line += f" (not applicable: {result.not_applicable})"
        _print_wrapped(out, line, "  ", "      ")


def _experiment_cells(result: Result, codecs: list[str], codec: str) -> list[str]:
    cost = result.cost.get(codec)
    pages = {page.page_size: page.first_page_compressed.get(codec) for page in result.pages}
    return [
        result.id,
        result.name,
        result.roundtrip,
        _with_change(None if result.not_applicable else result.raw_bytes, result.change_raw),
        *(_with_change(result.compressed.get(label), result.change.get(label)) for label in codecs),
        f"{result.encode_ms:.1f}",
        "" if result.decode_ms is None else f"{result.decode_ms:.1f}",
        "" if cost is None else f"{cost.mbit_per_second:.1f}",
        # Whole dollars first, as the other formats print them, then millions.
        "" if cost is None else f"{round(cost.aud_per_year) / 1e6:.2f}",
        "" if cost is None else f"{cost.plain_mbit_per_second:.1f}",
        *(_kilobytes(pages.get(size)) for size in (25, 1000)),
        *_cpu_on(result, codec),
    ]


def _cpu_on(result: Result, codec: str) -> list[str]:
    """CPU to encode and compress one response on ``codec``, and the cores on the fly."""
    cpu = result.cpu
    if cpu is None or codec not in cpu.compress_ms:
        return ["", ""]
    return [f"{cpu.precompress_ms[codec]:.1f}", f"{cpu.cores_on_the_fly[codec]:.1f}"]


def _kilobytes(size: int | None) -> str:
    return "" if size is None else f"{size / 1000:,.1f} kB"


def _with_change(size: int | None, change: float | None) -> str:
    from nem2cdr_experiments.report import percent

    if size is None:
        return ""
    shown = percent(change)
    kilobytes = _kilobytes(size)
    return kilobytes if not shown or shown == "+0.00" else f"{kilobytes} ({shown}%)"
