"""The results of the commands as scripts read them (``--format json``): typed, built here.

``validation`` and ``run_report`` flatten what the library works with (``ParsedFile``,
``RunResult``) into the documented shapes; the field order is the order of the JSON keys.
"""

from __future__ import annotations

import msgspec

from mmtlite.activity import LoadEntry
from mmtlite.fileformat import ParsedFile
from mmtlite.findings import Finding
from mmtlite.loader import FileResult, RunResult
from mmtlite.paths import PassedOver
from mmtlite.rules import Evaluation


class Validation(msgspec.Struct):
    """``mmtlite validate``: one file checked without loading it."""

    file: str
    ok: bool  # neither refused nor with bad rows
    category: str | None
    env: str | None
    sequence: int | None
    rows: int  # good rows
    complete_list: bool
    control_failures: list[Finding]
    row_errors: list[Finding]


class FileReport(msgspec.Struct):
    """One file of a load or an ingest."""

    file: str
    outcome: str
    code: str | None
    category: str | None
    sequence: int | None
    rows_read: int
    added: int
    changed: int
    removed: int
    rejected: int
    message: str
    errors: list[Finding]
    load_id: int
    # What the rules made of it (null: the lists did not change, nothing to evaluate).
    statuses: EvaluationReport | None


class EvaluationReport(msgspec.Struct):
    """What the rules made of a file; ``changes`` keyed ``old>new`` (``>0S`` a new meter,
    ``0Z>`` one that left the master list)."""

    eval_id: int
    changes: dict[str, int]
    new_conflicts: int
    open_conflicts: int
    seconds: float


class RunReport(msgspec.Struct):
    """``mmtlite load`` and ``mmtlite ingest``."""

    run_id: int
    ok: bool
    aborted: list[LoadEntry]
    already_loaded: int
    files: list[FileReport]
    passed_over: list[PassedOver]
    published: list[str]


class Template(msgspec.Struct):
    """``mmtlite template``: an empty file of a category, the name it should carry and its
    columns."""

    name: str
    columns: list[str]
    content: bytes


def validation(parsed: ParsedFile) -> Validation:
    return Validation(
        parsed.file,
        parsed.ok,
        parsed.category,
        parsed.env,
        parsed.sequence,
        len(parsed.rows),
        parsed.complete,
        parsed.control_failures,
        parsed.row_errors,
    )


def run_report(result: RunResult) -> RunReport:
    return RunReport(
        result.run_id,
        result.clean,
        result.aborted,
        result.already_loaded,
        [_file_report(file) for file in result.files],
        result.passed_over,
        result.published,
    )


def _file_report(result: FileResult) -> FileReport:
    counts = result.counts
    return FileReport(
        result.file,
        result.outcome,
        result.code,
        result.category,
        result.sequence,
        counts.rows_read,
        counts.added,
        counts.changed,
        counts.removed,
        counts.rejected,
        result.message,
        result.errors,
        result.load_id,
        _evaluation_report(result.evaluation) if result.evaluation is not None else None,
    )


def _evaluation_report(evaluation: Evaluation) -> EvaluationReport:
    return EvaluationReport(
        evaluation.eval_id,
        {str(change): count for change, count in evaluation.changes.items()},
        evaluation.new_conflicts,
        evaluation.open_conflicts,
        evaluation.seconds,
    )
