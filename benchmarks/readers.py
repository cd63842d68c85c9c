"""The two whole-file reads timed in-process: nem2cdr's reader and the plain csv floor."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import nem2cdr


class Outcome(NamedTuple):
    records: int
    errors: int
    warnings: int


def read_with_nem2cdr(path: Path) -> Outcome:
    """Iterate every record ``nem2cdr.read`` yields."""
    reader = nem2cdr.read(path)
    records = 0
    for _ in reader:
        records += 1
    found = reader.diagnostics
    return Outcome(records, found.error_count, found.warning_count)


def read_with_csv(path: Path) -> Outcome:
    """The floor: ``csv.reader`` splitting every row of the file, and nothing else."""
    rows = 0
    with open(path, newline="", encoding="ascii") as text:
        for _ in csv.reader(text):
            rows += 1
    return Outcome(rows, 0, 0)
