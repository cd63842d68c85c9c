"""export in one read, against hostile inputs and outputs: what the one read reports and leaves
behind is what two reads report and leave. Two reads are what an export to standard output
always takes (tests/test_export_one_read.py says why); the one read needs a file."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner
from hypothesis import event, given, settings
from hypothesis import strategies as st

import nem2cdr
from nem2cdr.exporting import ExportResult
from nem2cdr.tables import DecimalTooWide
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import CORPUS, STREAM_30, nem12, row_300

Format = Literal["csv", "parquet"]
NEM13 = CORPUS / "unzipped" / "Example_NEM13_consumption_data.csv"

DAYS = [f"202401{day:02}" for day in range(1, 29)]
# A place no one can write, root included: /proc holds no files but the kernel's.
UNWRITABLE = Path("/proc/nem2cdr-export.parquet")


def standard_output(paths: list[Path], to: Format, **options: Any) -> tuple[ExportResult, bytes]:
    """What ``export`` gives and writes to standard output (always two reads)."""
    written = io.BytesIO()
    stdout = io.TextIOWrapper(written)  # held: collecting it would close ``written``
    with redirect_stdout(stdout):
        result = nem2cdr.export(paths, "-", to=to, **options)
    stdout.flush()
    return result, written.getvalue()


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


# Texts a day's values are drawn from: widths that differ before the point, after it, or both,
# and the spellings the reader tolerates (".5" is a warning, an error under --strict).
VALUE_TEXTS = ["1.5", "0", "0.000", "12.25", ".5", "1234.5", "0.001", "99", "1.50"]
# UpdateDateTimes: later, earlier and equal copies of a day, and none at all.
UPDATES = ["20240102030000", "20240105030000", "20231205030000", ""]
NMIS = ["6102000001", "6102000002"]


@st.composite
def hostile_inputs(draw: st.DrawFn) -> list[bytes]:
    """One to three NEM12 texts: days of two NMIs, some given twice (in one file or across
    files, the copy later or earlier, equal or without an UpdateDateTime), values of any width
    anywhere, and now and then an error, a NEM13 file, no 900, LF ends or a BOM."""
    days = draw(
        st.lists(
            st.tuples(
                st.sampled_from(NMIS),
                st.integers(1, 12),  # the day: few, so copies are common
                st.lists(st.sampled_from(VALUE_TEXTS), min_size=1, max_size=3),
                st.sampled_from(UPDATES),
                st.integers(0, 2),  # the file it is in
            ),
            min_size=1,
            max_size=14,
        )
    )
    texts = []
    for number in range(1 + max(day[4] for day in days)):
        rows: list[str] = []
        stream = None
        for nmi, day, values, update, file in days:
            if file != number:
                continue
            if nmi != stream:
                rows.append(STREAM_30.replace("6102000001", nmi))
                stream = nmi
            tail = f"A,,,{update},20240102040000"
            rows.append(row_300(f"202401{day:02}", ",".join((values * 48)[:48]), tail))
        if draw(st.integers(0, 9)) == 0:  # an error somewhere: two values where 48 are due
            rows.insert(draw(st.integers(0, len(rows))), "300,20240301,1,2,A,,,,")
        end = draw(st.integers(0, 9)) != 0
        newline = draw(st.sampled_from(["\r\n", "\n"]))
        text = nem12(*rows, end=end, newline=newline)
        texts.append(b"\xef\xbb\xbf" + text if draw(st.integers(0, 9)) == 0 else text)
    if draw(st.integers(0, 9)) == 0:
        texts.insert(draw(st.integers(0, len(texts))), NEM13.read_bytes())
    if draw(st.integers(0, 3)) == 0:  # the texts as the members of one zip
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as packed:
            for number, text in enumerate(texts):
                packed.writestr(f"member{number}.csv", text)
        return [archive.getvalue()]
    return texts


@settings(max_examples=100, deadline=None)
@given(
    texts=hostile_inputs(),
    to=st.sampled_from(["csv", "parquet"]),
    shape=st.sampled_from(["long", "daily"]),
    flags=st.sets(st.sampled_from(["keep_superseded", "keep_going", "strict"])),
    batch_rows=st.integers(1, 150),
)
def test_any_hostile_inputs_give_what_two_reads_give_or_nothing(
    texts: list[bytes], to: Format, shape: str, flags: set[str], batch_rows: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = [
            Path(folder, f"in{number}.{'zip' if text[:2] == b'PK' else 'csv'}")
            for number, text in enumerate(texts)
        ]
        for path, text in zip(paths, texts, strict=True):
            path.write_bytes(text)
        out = Path(folder, f"out.{to}")
        out.write_bytes(b"an earlier export")
        options: dict[str, Any] = {"shape": shape, "batch_rows": batch_rows}
        options.update(dict.fromkeys(flags, True))
        result = nem2cdr.export(paths, out, to=to, **options)
        event(f"{result.reads} reads, ok {result.ok}")
        left = sorted(path.name for path in Path(folder).iterdir())
        if result.accumulation_rows:  # two tables, which standard output cannot take
            assert result.reads == 2
            assert not [name for name in left if name.startswith(".")]
            return
        reference, two_reads = standard_output(paths, to, **options)
        assert (result.ok, result.rows, result.accumulation_rows) == (
            reference.ok,
            reference.rows,
            reference.accumulation_rows,
        )
        assert result.diagnostics.errors == reference.diagnostics.errors
        assert result.diagnostics.warnings == reference.diagnostics.warnings
        assert out.read_bytes() == (two_reads if result.ok else b"an earlier export")
        assert left == sorted([*(path.name for path in paths), out.name])


@pytest.mark.slow
@pytest.mark.parametrize("to", ["csv", "parquet"])
def test_ctrl_c_while_the_one_read_writes_leaves_the_earlier_file(to: str, tmp_path: Path) -> None:
    """Ctrl-C once the one read's temporary exists (the table is being written as the inputs
    are read): exit 130, one line, the earlier file as it was and no temporary left."""
    source, out = tmp_path / "twelve.csv", tmp_path / f"out.{to}"
    nem2cdr.generate(source, nmis=12, days=365, interval=5, seed=2)
    out.write_bytes(b"an earlier export")
    nem2cdr_script = str(Path(sys.executable).parent / "nem2cdr")
    child = subprocess.Popen(
        [nem2cdr_script, "export", str(source), "--to", to, "-o", str(out)],
        stderr=subprocess.PIPE,
    )
    assert child.stderr is not None
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(f".{out.name}.*.partial")):
        assert child.poll() is None, "the export ended before its temporary was seen"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=60) == 130
    assert child.stderr.read().decode().splitlines() == ["nem2cdr: interrupted"]
    assert out.read_bytes() == b"an earlier export"
    assert sorted(tmp_path.iterdir()) == [out, source]


@pytest.mark.parametrize("to", ["csv", "parquet"])
def test_an_input_exported_over_itself_is_what_two_reads_wrote(to: Format, tmp_path: Path) -> None:
    """The one read renames its temporary over the output only after the last record: an
    input that is also the output is read whole first (as two reads read it twice)."""
    path = tmp_path / "in.csv"
    path.write_bytes(nem12(STREAM_30, *(row_300(day) for day in DAYS)))
    two_reads = standard_output([path], to, batch_rows=96)[1]
    assert nem2cdr.export(path, path, to=to, batch_rows=96).reads == 1
    assert path.read_bytes() == two_reads
    assert list(tmp_path.iterdir()) == [path]
