"""export in one read, against hostile inputs and outputs: what the one read reports and leaves
behind is what two reads report and leave. Two reads are what an export to standard output
always takes (tests/test_export_one_read.py says why); the one read needs a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr.tables import DecimalTooWide
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import STREAM_30, nem12, row_300

DAYS = [f"202401{day:02}" for day in range(1, 29)]
# A place no one can write, root included: /proc holds no files but the kernel's.
UNWRITABLE = Path("/proc/nem2cdr-export.parquet")


def late_error(tmp_path: Path) -> list[Path]:
    """A clean file, then one whose error comes after a first batch's worth of days."""
    clean, failing = tmp_path / "clean.csv", tmp_path / "failing.csv"
    clean.write_bytes(nem12(STREAM_30, *(row_300(day) for day in DAYS)))
    failing.write_bytes(nem12(STREAM_30, row_300("20240301"), "300,20240302,1,2"))
    return [clean, failing]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_inputs_with_errors_are_reported_before_an_output_that_cannot_be_written(
    tmp_path: Path,
) -> None:
    """Two reads never open the output of inputs with errors: they say what is wrong with the
    inputs and write nothing. The one read opens it after its first batch, before it meets the
    error: an output it cannot write must not hide the inputs' errors."""
    paths = late_error(tmp_path)
    names = [str(path) for path in paths]
    runner = CliRunner()
    two_reads = runner.invoke(cli, ["export", *names, "--to", "parquet", "-o", "-"])
    one_read = runner.invoke(cli, ["export", *names, "--to", "parquet", "-o", str(UNWRITABLE)])
    assert two_reads.exit_code == 1 and "nothing written" in two_reads.stderr
    assert (one_read.exit_code, one_read.stderr) == (1, two_reads.stderr)
    result = nem2cdr.export(paths, UNWRITABLE, to="parquet", batch_rows=96)
    assert not result.ok
    assert result.diagnostics.errors == [e for p in paths for e in nem2cdr.validate(p).errors]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_values_too_wide_are_reported_before_an_output_that_cannot_be_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.csv"
    # 21 digits before the point and 16 after: more than one 38-digit decimal type holds.
    wide = ",".join(["1" + "0" * 20, "0." + "0" * 15 + "1"] * 24)
    rows = [*(row_300(day) for day in DAYS), row_300("20240301", wide)]
    path.write_bytes(nem12(STREAM_30, *rows))
    with pytest.raises(DecimalTooWide):
        nem2cdr.export(path, "-", to="parquet", batch_rows=96)
    with pytest.raises(DecimalTooWide):
        nem2cdr.export(path, UNWRITABLE, to="parquet", batch_rows=96)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_clean_inputs_and_an_output_that_cannot_be_written_name_the_output(
    tmp_path: Path,
) -> None:
    clean = late_error(tmp_path)[0]
    result = CliRunner().invoke(cli, ["export", str(clean), "--to", "csv", "-o", str(UNWRITABLE)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"nem2cdr export: cannot write {UNWRITABLE}: ")
