"""How reports look on a terminal (rich) and as JSON for scripts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import msgspec

from nem2cdr.checking import Problem
from nem2cdr.diagnostics import Diagnostics
from nem2cdr.validation import Finding, ValidationReport

if TYPE_CHECKING:
    from rich.console import Console

_json = msgspec.json.Encoder()


def console(stderr: bool = False) -> Console:
    """A rich console, imported only when something is printed (rich costs 25 ms to import)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    return console(stderr=True)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def print_json(value: object) -> None:
    sys.stdout.buffer.write(msgspec.json.format(_json.encode(value), indent=2) + b"\n")
    sys.stdout.flush()


def _finding_line(finding: Finding, file: str) -> str:
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


class CheckReport(msgspec.Struct):
    file: str
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def print_check(reports: list[CheckReport], console: Console) -> None:
    for report in reports:
        if report.ok:
            console.print(f"[green]ok[/] {escape(report.file)}")
            continue
        console.print(f"[bold red]FAILED[/] {escape(report.file)}: {len(report.problems)} problems")
        for problem in report.problems:
            console.print(
                f"[red]  {problem.code} {escape(problem.path)}: {escape(problem.message)}[/]"
            )


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
