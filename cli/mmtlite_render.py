"""How mmtlite's reports look: rich tables for people, JSON and CSV for scripts."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import TypeVar

import msgspec

from cli.output import console, escape, print_json
from mmtlite.activity import ErrorRow, LoadEntry
from mmtlite.fileformat import ParsedFile
from mmtlite.loader import FileResult, RunResult
from mmtlite.reports import Status

SHOWN_ERRORS = 10  # per file in a load's table; `mmtlite errors` has them all

_OUTCOME_STYLE = {
    "loaded": "green",
    "skipped": "cyan",
    "loaded with errors": "yellow",
    "refused": "bold red",
    "aborted": "red",
    "started": "magenta",
}

Row = TypeVar("Row", bound=msgspec.Struct)


def validation_report(result: ParsedFile) -> dict[str, object]:
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


def print_validation(results: list[ParsedFile]) -> None:
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


def run_report(result: RunResult) -> dict[str, object]:
    return {
        "run_id": result.run_id,
        "ok": result.clean,
        "aborted": result.aborted,
        "already_loaded": result.already_loaded,
        "files": [_file_report(file) for file in result.files],
    }


def _file_report(result: FileResult) -> dict[str, object]:
    return {
        "file": result.file,
        "outcome": result.outcome,
        "code": result.code,
        "category": result.category,
        "sequence": result.sequence,
        **msgspec.structs.asdict(result.counts),
        "message": result.message,
        "errors": result.errors,
        "load_id": result.load_id,
    }


def print_run(result: RunResult) -> None:
    out = console()
    for entry in result.aborted:
        out.print(
            f"[red]aborted[/] {escape(entry.file)}: its run {entry.run_id} ({entry.command}, "
            f"started {entry.started}) died before it finished; nothing of it was applied"
        )
    for file in result.files:
        style = _OUTCOME_STYLE.get(file.outcome, "")
        counts = file.counts
        what = f"{file.category or '?'} {file.sequence if file.sequence is not None else '?'}"
        tally = (
            f"{counts.rows_read:,} read, {counts.added:,} added, {counts.changed:,} changed, "
            f"{counts.removed:,} removed, {counts.rejected:,} rejected"
        )
        line = f"[{style}]{file.outcome}[/] {escape(file.file)} ({what})"
        if file.outcome != "skipped":
            line += f": {tally}"
        out.print(line)
        if file.message and file.outcome != "refused":  # a refusal is its first error
            out.print(f"  {escape(file.message)}")
        for error in file.errors[:SHOWN_ERRORS]:
            out.print(f"[yellow]  {escape(_error_line(error))}[/]")
        if len(file.errors) > SHOWN_ERRORS:
            out.print(
                f"  ... {len(file.errors) - SHOWN_ERRORS:,} more: mmtlite errors --load "
                f"{file.load_id}"
            )
    if result.already_loaded:
        out.print(f"{result.already_loaded} files in the inbound folders were loaded before")
    if not result.files and not result.already_loaded:
        out.print("nothing to load")


def _error_line(error: ErrorRow) -> str:
    where = f" line {error.line}" if error.line is not None else ""
    column = f" column {error.column}" if error.column else ""
    return f"{error.code}{where}{column}: {error.message}"


def print_status(status: Status) -> None:
    from rich.table import Table

    table = Table(title=f"{status.env}: {status.meters:,} meters", title_justify="left")
    table.add_column("status")
    table.add_column("meters", justify="right")
    for name, count in status.by_status.items():
        table.add_row(name, f"{count:,}")
    console().print(table)


def print_rows(
    rows: Sequence[Row], output_format: str, print_table: Callable[[Sequence[Row]], None]
) -> None:
    """Rows of a report as JSON (a list of objects), CSV (a header line) or a table."""
    if output_format == "json":
        print_json(rows)
    elif output_format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if rows:
            writer.writerow(msgspec.structs.asdict(rows[0]))
        writer.writerows(msgspec.structs.astuple(row) for row in rows)
    else:
        print_table(rows)


def print_log(entries: Sequence[LoadEntry]) -> None:
    """One line per entry (its message below it): readable in a narrow terminal too."""
    out = console()
    if not entries:
        out.print("the log is empty")
    for e in entries:
        style = _OUTCOME_STYLE.get(e.outcome, "")
        what = f"{e.category} {e.sequence}" if e.category else "?"
        out.print(
            f"#{e.load_id} run {e.run_id} {e.command} {e.started} [{style}]{e.outcome}[/] "
            f"{escape(PurePath(e.file).name)} ({what}): {e.rows_read:,} read, {e.added:,} added, "
            f"{e.changed:,} changed, {e.removed:,} removed, {e.rejected:,} rejected"
        )
        if e.message:
            out.print(f"  {escape(e.message)}")


def print_errors(rows: Sequence[ErrorRow]) -> None:
    out = console()
    if not rows:
        out.print("no errors")
    for error in rows:
        out.print(f"{escape(error.file)}: {escape(_error_line(error))}")
