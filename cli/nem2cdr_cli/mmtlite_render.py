"""How mmtlite's reports look: rich tables for people, JSON and CSV for scripts."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import msgspec

from mmtlite.activity import LoadEntry
from mmtlite.findings import Finding, LoggedFinding
from mmtlite.loader import RunResult
from mmtlite.migration_report import Report
from mmtlite.outbound import Written
from mmtlite.reports import Status, Story
from mmtlite.results import Validation
from mmtlite.simulate import Answer
from mmtlite.tranches import Export, Selection
from nem2cdr_cli.output import console, escape, print_json

if TYPE_CHECKING:
    from rich.table import Table

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


def print_validation(results: list[Validation]) -> None:
    out = console()
    for result in results:
        if result.control_failures:
            verdict = "[bold red]REFUSED[/]"
        elif result.row_errors:
            verdict = "[yellow]BAD ROWS[/]"
        else:
            verdict = "[green]ok[/]"
        what = _what(result.category, result.sequence, "sequence ")
        good = f"{what}, {result.rows:,} good rows" if what else f"{result.rows:,} good rows"
        out.print(f"{verdict} {escape(result.file)}: {escape(good)}")
        for failure in result.control_failures:
            out.print(f"[red]  {escape(_error_line(failure))}[/]")
        for error in result.row_errors:
            out.print(f"[yellow]  {escape(_error_line(error))}[/]")


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
        what = _what(file.category, file.sequence)
        tally = (
            f"{counts.rows_read:,} read, {counts.added:,} added, {counts.changed:,} changed, "
            f"{counts.removed:,} removed, {counts.rejected:,} rejected"
        )
        line = f"[{style}]{file.outcome}[/] {escape(file.file)}" + (f" ({what})" if what else "")
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
    for passed in result.passed_over:
        out.print(f"[yellow]passed over[/] {escape(passed.path)}: {escape(passed.why)}")
    for path in result.published:
        out.print(f"published {escape(path)} (left hidden by a crash)")
    if result.already_loaded:
        out.print(f"{result.already_loaded} files in the inbound folders were loaded before")
    if not result.files and not result.already_loaded and not result.passed_over:
        out.print("nothing to load")


def _what(category: str | None, sequence: int | None, label: str = "") -> str:
    """A file's category and sequence as far as they are known ("" when neither is: an
    unreadable file), never a Python ``None``."""
    known = [category or "?"] if category or sequence is not None else []
    if sequence is not None:
        known.append(f"{label}{sequence}")
    return " ".join(known)


def _error_line(error: Finding) -> str:
    where = f" line {error.line}" if error.line else ""  # a whole-file finding has no line
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
        header = list(msgspec.structs.asdict(rows[0])) if rows else None
        write_csv(header, (msgspec.structs.astuple(row) for row in rows))
    else:
        print_table(rows)


def write_csv(header: Sequence[str] | None, rows: Iterable[Sequence[object]]) -> None:
    """CSV on stdout, every text cell a spreadsheet would take for a formula neutralised."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows([inert(cell) for cell in row] for row in rows)


# A spreadsheet evaluates a cell starting with one of these (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: object) -> object:
    """``cell`` as it is, or a text cell that would start a formula with a ``'`` before it
    (which a spreadsheet shows as text and hides); numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def print_log(entries: Sequence[LoadEntry]) -> None:
    """One line per entry (its message below it): readable in a narrow terminal too."""
    out = console()
    if not entries:
        out.print("the log is empty")
    for e in entries:
        style = _OUTCOME_STYLE.get(e.outcome, "")
        what = _what(e.category, e.sequence)
        out.print(
            f"#{e.load_id} run {e.run_id} {e.command} {e.started} [{style}]{e.outcome}[/] "
            f"{escape(PurePath(e.file).name)}{f' ({what})' if what else ''}: "
            f"{e.rows_read:,} read, {e.added:,} added, "
            f"{e.changed:,} changed, {e.removed:,} removed, {e.rejected:,} rejected"
        )
        if e.message:
            out.print(f"  {escape(e.message)}")


def print_errors(rows: Sequence[LoggedFinding]) -> None:
    out = console()
    if not rows:
        out.print("no errors")
    for error in rows:
        out.print(f"{escape(error.file)}: {escape(_error_line(error))}")


def print_selection(selection: Selection) -> None:
    out = console()
    out.print(
        f"tranche [bold]{escape(selection.tranche_id)}[/]: {selection.meters:,} meters on "
        f"{selection.sites:,} sites (at most {selection.requested:,} asked)"
    )
    if selection.passed_over:
        out.print(f"  {selection.passed_over:,} eligible sites did not fit and wait")
    out.print(f"  {selection.eligible_left:,} eligible meters left")
    _print_written(selection.file)


def print_export(exported: Export) -> None:
    _print_written(exported.file)
    for why, count in exported.left_out.items():
        if count:
            console().print(f"  left out: {count:,} {escape(why)}")


def _print_written(written: Written) -> None:
    console().print(
        f"wrote {escape(written.path)} ({written.category} sequence {written.sequence}, "
        f"{written.rows:,} rows)"
    )


def print_story(story: Story) -> None:
    out = console()
    status = story.status or "-"
    out.print(f"[bold]{escape(story.msn)}[/] {status}: {escape(story.cause)}")
    if story.site_id is not None:
        listed = "" if story.in_master_list else " (no longer in the master list)"
        out.print(f"  site {escape(story.site_id)}, device {escape(story.dmc_id or '?')}{listed}")
    if story.site_mates:
        mates = ", ".join(f"{msn} {state}" for msn, state in story.site_mates.items())
        out.print(f"  site-mates: {escape(mates)}")
    for fact in story.facts:
        values = ", ".join(f"{key} {value}" for key, value in fact.values.items() if value)
        source = f" ({fact.file})" if fact.file else ""
        out.print(f"  {fact.category}: {escape(values)}{escape(source)}")
    out.print("history:")
    for event in story.events:
        change = f"{event.old_status or 'new'} -> {event.status or 'gone'}"
        source = f" [{event.source}]" if event.source else ""
        by = "" if event.trigger == f"load {event.source}" else f" (by {event.trigger})"
        out.print(f"  {event.at}  {change:10} {escape(event.cause)}{escape(source + by)}")


class Column(NamedTuple):
    name: str
    numeric: bool = False  # right-justified, so the digits line up
    narrow: bool = True  # shown in 80 columns too (the others with --wide only)
    short: str = ""  # its heading in 80 columns, when not its name
    whole: bool = False  # the others wrap first (a code is read whole)


EXCLUSION_COLUMNS = (
    Column("status", narrow=False),  # in 80 columns the reason tells it: TODO holds (0)
    Column("reason"),
    Column("code", whole=True),
    Column("description"),
    Column("site-wide", narrow=False),
    Column("meters", True),
    Column("direct", True, narrow=False),
    Column("via site", True),
    Column("site share", True, narrow=False),
)

CONFLICT_COLUMNS = (
    Column("tranche"),
    Column("reason"),
    Column("code", whole=True),
    Column("description"),
    Column("meters", True),
)
TRANCHE_COLUMNS = (
    Column("tranche"),
    Column("selected", narrow=False),
    Column("meters", True),
    Column("sites", True),
    Column("DCC acc/rej/wait", True, short="DCC a/r/w"),
    Column("CS noted/ok/fail/wait", True, short="CS n/o/f/w"),
    Column("MDM notified/ok/fail/wait", True, short="MDM n/o/f/w"),
    Column("conflicts", True),
)
WIDE = 1_000  # columns a --wide report may take: as many as its cells need


def _table(title: str, columns: Sequence[Column], wide: bool) -> Table:
    """A table of the ``columns`` a narrow or ``wide`` report shows."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        if wide or column.narrow:
            # Folded, never cut: two codes that differ at their end must both show whole.
            table.add_column(
                column.name if wide else column.short or column.name,
                justify="right" if column.numeric else "left",
                overflow="fold",
                no_wrap=column.whole,
            )
    return table


def _cells(columns: Sequence[Column], wide: bool, *cells: str) -> list[str]:
    return [cell for column, cell in zip(columns, cells, strict=True) if wide or column.narrow]


def exclusion_table(made: Report, wide: bool = True) -> Table:
    """Exclusions and holds by first cause."""
    title = "excluded (0Z) and held (0), by first cause"
    reasons = _table(title, EXCLUSION_COLUMNS, wide)
    for r in made.exclusions:
        reasons.add_row(
            *_cells(
                EXCLUSION_COLUMNS,
                wide,
                r.status,
                r.reason,
                escape(r.code),
                escape(r.description),
                "yes" if r.site_wide else "no",
                f"{r.meters:,}",
                f"{r.direct:,}",
                f"{r.via_site:,}",
                f"{r.site_share:.0%}",
            )
        )
    return reasons


def conflict_table(made: Report, wide: bool = True) -> Table:
    """Tranche meters the lists now exclude or hold, by reason."""
    title = "conflicts: tranche meters the lists now exclude or hold"
    conflicts = _table(title, CONFLICT_COLUMNS, wide)
    for c in made.conflicts:
        conflicts.add_row(
            escape(c.tranche_id), c.reason, escape(c.code), escape(c.description), f"{c.meters:,}"
        )
    return conflicts


def tranche_table(made: Report, wide: bool = True) -> Table:
    """Each tranche's progress."""
    tranches = _table("tranches", TRANCHE_COLUMNS, wide)
    for t in made.tranches:
        tranches.add_row(
            *_cells(
                TRANCHE_COLUMNS,
                wide,
                escape(t.tranche_id),
                t.selected_at,
                f"{t.meters:,}",
                f"{t.sites:,}",
                "/".join(f"{t.dcc[k]:,}" for k in ("accepted", "rejected", "awaiting")),
                "/".join(f"{t.cs[k]:,}" for k in ("noted", "ok", "fail", "awaiting")),
                "/".join(f"{t.mdm[k]:,}" for k in ("notified", "ok", "fail", "awaiting")),
                f"{t.conflicts:,}",
            )
        )
    return tranches


def print_report(made: Report, wide: bool = False) -> None:
    """The report in the terminal's width (80 columns when redirected), cells folded, never
    cut; ``wide``: every column, each as wide as its cells."""
    out = console()
    if wide:
        out.width = WIDE
    print_status(Status(made.env, made.meters, made.by_status))
    out.print(exclusion_table(made, wide))
    if made.conflicts:
        out.print(conflict_table(made, wide))
    if made.tranches:
        out.print(tranche_table(made, wide))
        if not wide:
            out.print("  a/r/w: accepted/rejected/awaiting")
            out.print("  n/o/f/w: noted (CS) or notified (MDM)/ok/fail/awaiting")
    else:
        out.print("no tranche selected yet")


def print_answer(made: Answer) -> None:
    console().print(
        f"{escape(made.path)} ({made.category} sequence {made.sequence}, {made.rows:,} rows, "
        f"{made.failed:,} not accepted)"
    )
