"""export in one read: the first read writes the table as it goes, on the guess that two reads
would write the same; any record that proves the guess wrong makes it two reads again. Either
way the file is what two reads write: compared here with standard output, which an export
always writes in two reads (written bytes cannot be taken back there). The CLI is the library's
``export``: tests/test_export.py runs it."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings

import nem2cdr
from nem2cdr.model import IntervalDay
from tests.helpers import CORPUS, STREAM_30, nem12, row_300
from tests.strategies import interval_days
from tests.test_corpus import GOOD

Format = Literal["csv", "parquet"]
DAYS = [f"202401{day:02}" for day in range(1, 29)]


def two_reads(path: Path, to: Format, **options: Any) -> bytes:
    """What ``export`` writes to standard output: always two reads."""
    written = io.BytesIO()
    stdout = io.TextIOWrapper(written)  # held: collecting it would close ``written``
    with redirect_stdout(stdout):
        result = nem2cdr.export(path, "-", to=to, **options)
    assert (result.ok, result.reads) == (True, 2)
    return written.getvalue()


def exported(path: Path, out: Path, to: Format, **options: Any) -> int:
    """Export ``path`` to the file ``out``; the reads it took."""
    result = nem2cdr.export(path, out, to=to, **options)
    assert result.ok
    return result.reads


@pytest.mark.parametrize("to", ["csv", "parquet"])
@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_every_corpus_file_gives_what_two_reads_give(
    path: Path, to: Format, tmp_path: Path
) -> None:
    out = tmp_path / f"out.{to}"
    exported(path, out, to)
    assert out.read_bytes() == two_reads(path, to)


def written(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(nem12(STREAM_30, *rows))
    return path


def test_a_clean_file_is_read_once(tmp_path: Path) -> None:
    path = written(tmp_path, *(row_300(day) for day in DAYS))
    out = tmp_path / "out.parquet"
    assert exported(path, out, "parquet", batch_rows=96) == 1
    assert out.read_bytes() == two_reads(path, "parquet", batch_rows=96)


@pytest.mark.parametrize(
    ("case", "last"),
    [
        # A later copy of the first day, which wins (later UpdateDateTime): that day is out.
        ("a second copy", row_300("20240101", tail="A,,,20240105030000,20240105040000")),
        # The first batches need 1.5's digits; a value at the end needs more, before the point
        # and after it: the decimal type of every row changes.
        ("a wider value", row_300("20240201", ",".join(["123.25"] * 48))),
        # An error, with --keep-going: the day is left out, the rest written.
        ("an error kept going", row_300("20240201", ",".join(["x"] * 48))),
    ],
)
def test_a_wrong_guess_late_in_the_file_gives_what_two_reads_give(
    case: str, last: str, tmp_path: Path
) -> None:
    path = written(tmp_path, *(row_300(day) for day in DAYS), last)
    for to in ("csv", "parquet"):
        out = tmp_path / f"out.{to}"
        result = nem2cdr.export(path, out, to=to, batch_rows=96, keep_going=True)
        assert result.reads == (1 if case == "an error kept going" else 2), case
        assert out.read_bytes() == two_reads(path, to, batch_rows=96, keep_going=True), case
        assert list(tmp_path.glob(".*")) == []  # the given-up temporary is gone


def test_an_error_late_in_the_file_writes_nothing(tmp_path: Path) -> None:
    path = written(tmp_path, *(row_300(day) for day in DAYS), row_300("20240201", "x"))
    out = tmp_path / "out.parquet"
    out.write_bytes(b"an earlier export")
    result = nem2cdr.export(path, out, to="parquet", batch_rows=96)
    assert not result.ok
    assert [d.code for d in result.diagnostics.errors] == [
        d.code for d in nem2cdr.validate(path).errors
    ]
    assert out.read_bytes() == b"an earlier export"
    assert sorted(tmp_path.iterdir()) == [path, out]


def test_nem13_reads_are_two_reads_and_two_tables(tmp_path: Path) -> None:
    nem13 = next(path for path in GOOD if "NEM13" in path.name)
    out = tmp_path / "out.parquet"
    result = nem2cdr.export(nem13, out, to="parquet")
    assert (result.reads, result.accumulation_rows > 0) == (2, True)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(days=interval_days())
def test_any_written_file_gives_what_two_reads_give(
    days: list[IntervalDay], tmp_path: Path
) -> None:
    path = tmp_path / "generated.csv"
    nem2cdr.write(path, days)
    out = tmp_path / "out.parquet"
    nem2cdr.export(path, out, to="parquet", batch_rows=100)
    assert out.read_bytes() == two_reads(path, "parquet", batch_rows=100)


def test_a_zip_of_several_members_is_read_once(tmp_path: Path) -> None:
    archive = CORPUS / "Example_NEM12_ManyNMIs.zip"
    out = tmp_path / "out.csv"
    assert exported(archive, out, "csv", batch_rows=500) == 1
    assert out.read_bytes() == two_reads(archive, "csv", batch_rows=500)
