"""nem2cdr export and to_arrow: every corpus file, generated files, the command's rules."""

from __future__ import annotations

import csv
import io
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

import nem2cdr
from nem2cdr.exact import EXACT
from nem2cdr.exporting import ROW_GROUP_BATCHES, processes
from nem2cdr.model import IntervalDay
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import CORPUS, STREAM_30, nem12, row_300
from tests.strategies import interval_days
from tests.test_corpus import GOOD

NEM = timezone(timedelta(hours=10))
DayKey = tuple[str, str, date]


def reader_days(paths: list[Path]) -> dict[DayKey, Decimal]:
    """Each day's exact total as the reader gives it, superseded copies left out (the reader's
    own record of them), read file by file: the files of these tests repeat no day across."""
    totals: dict[DayKey, Decimal] = {}
    for path in paths:
        reader = nem2cdr.read(path)
        kept = []
        for record in reader:
            if isinstance(record, IntervalDay):
                kept.append((reader.members[-1], record))
        for member, day in kept:
            if (member, day.line) in reader.superseded:
                continue
            with localcontext(EXACT):
                total = sum((Decimal(repr(v)) for v in day.values), Decimal(0))
            totals[(day.stream.nmi, day.stream.suffix, day.date)] = total
    return totals


def long_table(paths: list[Path], **options: Any) -> pa.Table:
    return nem2cdr.to_arrow(paths, "long", **options).read_all()


def exported_days(table: pa.Table) -> dict[DayKey, list[dict[str, Any]]]:
    days: dict[DayKey, list[dict[str, Any]]] = defaultdict(list)
    for row in table.to_pylist():
        start = row["interval_start"]
        days[(row["nmi"], row["suffix"], start.date())].append(row)
    return days


def assert_days_match_reader(paths: list[Path], table: pa.Table) -> None:
    days = exported_days(table)
    expected = reader_days(paths)
    assert set(days) == set(expected)
    for key, rows in days.items():
        with_context = EXACT.create_decimal(0)
        for row in rows:
            with_context = EXACT.add(with_context, row["value"])
        assert with_context == expected[key], key
        # Whole days, 00:00 to 24:00 in the NEM's time, interval after interval.
        first = datetime.combine(key[2], datetime.min.time(), NEM)
        assert rows[0]["interval_start"] == first
        assert rows[-1]["interval_end"] == first + timedelta(days=1)
        for before, after in itertools.pairwise(rows):
            assert before["interval_end"] == after["interval_start"]
        assert all(row["interval_start"].utcoffset() == timedelta(hours=10) for row in rows)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def as_csv_text(value: object) -> str:
    """How a Parquet cell reads in the CSV: the same number, time or text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_parquet_equals_csv(parquet: Path, text: Path) -> None:
    table = pq.read_table(parquet)
    rows = csv_rows(text)
    assert table.num_rows == len(rows)
    assert table.column_names == list(rows[0]) if rows else True
    for got, want in zip(table.to_pylist(), rows, strict=True):
        for name, cell in got.items():
            if isinstance(cell, Decimal):  # the CSV keeps the file's text: the same number
                assert Decimal(want[name]) == cell, name
            else:
                assert as_csv_text(cell) == want[name], name


def export(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["export", *args])
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_every_corpus_file_exports_the_readers_days_exactly(path: Path, tmp_path: Path) -> None:
    table = long_table([path])
    assert_days_match_reader([path], table)
    if table.num_rows:
        parquet, text = tmp_path / "out.parquet", tmp_path / "out.csv"
        assert export(str(path), "--to", "parquet", "-o", str(parquet)).exit_code == 0
        assert export(str(path), "--to", "csv", "-o", str(text)).exit_code == 0
        assert_parquet_equals_csv(parquet, text)
        assert pq.read_table(parquet).equals(table)


def test_the_csv_keeps_the_files_text(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(nem12(STREAM_30, row_300(values=",".join(["1.500", "0", "2.25"] * 16))))
    out = tmp_path / "out.csv"
    assert export(str(source), "--to", "csv", "-o", str(out)).exit_code == 0
    assert [row["value"] for row in csv_rows(out)[:3]] == ["1.500", "0", "2.25"]
    # Parquet: one decimal type wide enough for all (three places), the same numbers.
    table = long_table([source])
    assert table.schema.field("value").type.scale == 3
    assert table.column("value").to_pylist()[:3] == [Decimal("1.5"), 0, Decimal("2.25")]


def test_export_streams_keep_the_files_sign(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(
        nem12(
            "200,6102000001,E1B1,2,B1,N1,METER1,kWh,30,",
            row_300(values=",".join(["0.5"] * 48)),
        )
    )
    values = long_table([source]).column("value").to_pylist()
    assert values == [Decimal("0.5")] * 48


def test_the_daily_shape_holds_the_long_shapes_values(tmp_path: Path) -> None:
    path = CORPUS / "nem12" / "NEM12#Scenario06#ETSAMDP#NEMMCO.zip"
    long = exported_days(long_table([path]))
    daily = nem2cdr.to_arrow([path], "daily").read_all().to_pylist()
    assert len(daily) == len(long)
    for row in daily:
        rows = long[(row["nmi"], row["suffix"], row["date"])]
        assert row["values"] == [r["value"] for r in rows]
        assert row["total"] == sum(row["values"], Decimal(0))
        covered = [
            q
            for span in row["qualities"]
            for q in [span["quality"]] * (span["last_interval"] - span["first_interval"] + 1)
        ]
        assert covered == [r["quality"] for r in rows]


def test_daily_csv_and_parquet_agree(tmp_path: Path) -> None:
    path = CORPUS / "nem12" / "NEM12#Scenario06#ETSAMDP#NEMMCO.zip"
    text, parquet = tmp_path / "d.csv", tmp_path / "d.parquet"
    assert export(str(path), "--to", "csv", "--shape", "daily", "-o", str(text)).exit_code == 0
    assert (
        export(str(path), "--to", "parquet", "--shape", "daily", "-o", str(parquet)).exit_code == 0
    )
    import json

    for got, want in zip(pq.read_table(parquet).to_pylist(), csv_rows(text), strict=True):
        assert [Decimal(str(v)) for v in json.loads(want["values"], parse_float=Decimal)] == got[
            "values"
        ]
        assert Decimal(want["total"]) == got["total"]
        assert json.loads(want["qualities"]) == got["qualities"]


def test_nem13_reads_have_their_own_table(tmp_path: Path) -> None:
    nem13 = sorted((CORPUS / "nem13").iterdir())[0]
    nem12_file = CORPUS / "unzipped" / sorted(p.name for p in (CORPUS / "unzipped").iterdir())[0]
    out = tmp_path / "t.parquet"
    result = export(str(nem12_file), str(nem13), "--to", "parquet", "-o", str(out))
    assert result.exit_code == 0, result.output
    reads = pq.read_table(tmp_path / "t-accumulation.parquet")
    expected = [r for r in nem2cdr.read(nem13) if isinstance(r, nem2cdr.BasicRead)]
    assert reads.num_rows == len(expected) > 0
    assert reads.column("quantity").to_pylist() == [Decimal(repr(r.quantity)) for r in expected]
    assert pq.read_table(out).num_rows > 0
    # Only NEM13: the reads are the output itself.
    alone = tmp_path / "alone.parquet"
    assert export(str(nem13), "--to", "parquet", "-o", str(alone)).exit_code == 0
    # The same reads (the decimal type is as wide as these inputs need, so may differ).
    assert pq.read_table(alone).to_pylist() == reads.to_pylist()
    # Two tables cannot share standard output.
    assert export(str(nem12_file), str(nem13), "--to", "csv").exit_code == 2


def test_a_file_with_errors_exports_nothing_unless_keep_going(tmp_path: Path) -> None:
    broken = CORPUS / "nem12" / "NEM12#Scenario10#ETSAMDP#NEMMCO.zip"
    out = tmp_path / "out.parquet"
    result = export(str(broken), "--to", "parquet", "-o", str(out))
    assert result.exit_code == 1
    assert not out.exists()
    # Each error as validate reports it: code, file, line, message.
    report = nem2cdr.validate(broken)
    for error in report.errors:
        assert f"{error.code} {error.file} line {error.line}: {error.message}" in result.output
    assert "nothing written" in result.output
    kept = export(str(broken), "--to", "parquet", "-o", str(out), "--keep-going")
    assert kept.exit_code == 0
    assert pq.read_table(out).num_rows == report.stats.values
    with pytest.raises(nem2cdr.ExportError):
        nem2cdr.to_arrow(broken)


def duplicated(tmp_path: Path) -> tuple[Path, Path]:
    """Two files that give the same day: the second with a later UpdateDateTime for one day,
    the same UpdateDateTime for another."""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    # Each interval of day d is d x scale; the UpdateDateTime of days 1-3 is on these days.
    for path, scale, updated in ((first, 1, (2, 3, 5)), (second, 10, (9, 3, 4))):
        rows = [
            row_300(f"2024010{day}", ",".join([str(day * scale)] * 48), f"A,,,2024010{on}030000,")
            for day, on in zip((1, 2, 3), updated, strict=True)
        ]
        path.write_bytes(nem12(STREAM_30, *rows))
    return first, second


def test_a_day_in_two_files_is_kept_once_by_converts_rule(tmp_path: Path) -> None:
    first, second = duplicated(tmp_path)
    daily = nem2cdr.to_arrow([first, second], "daily").read_all().to_pylist()
    # Later UpdateDateTime wins; a tie goes to the later file; an older copy loses.
    assert sorted((row["date"].day, row["values"][0]) for row in daily) == [
        (1, Decimal(10)),
        (2, Decimal(20)),
        (3, Decimal(3)),
    ]
    # convert on one zip holding both files (members in the same order) keeps the same days.
    import zipfile

    archive = tmp_path / "both.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(first, first.name)
        bundle.write(second, second.name)
    out = tmp_path / "usage.json"
    nem2cdr.convert(archive, out, nem2cdr.ConvertOptions(interval_reads="FULL"), page_size=10)
    import json

    reads = json.loads(out.read_bytes())["data"]["reads"]
    kept = {r["readStartDate"][-1]: r["intervalRead"]["intervalReads"][0] for r in reads}
    assert kept == {"1": 10, "2": 20, "3": 3}


def test_keep_superseded_flags_the_replaced_days(tmp_path: Path) -> None:
    first, second = duplicated(tmp_path)
    out = tmp_path / "all.csv"
    result = export(
        str(first),
        str(second),
        "--to",
        "csv",
        "--shape",
        "daily",
        "--keep-superseded",
        "-o",
        str(out),
    )
    assert result.exit_code == 0
    flags = [(row["source_file"][-5:], row["date"], row["superseded"]) for row in csv_rows(out)]
    assert flags == [
        ("a.csv", "2024-01-01", "true"),
        ("a.csv", "2024-01-02", "true"),
        ("a.csv", "2024-01-03", "false"),
        ("b.csv", "2024-01-01", "false"),
        ("b.csv", "2024-01-02", "false"),
        ("b.csv", "2024-01-03", "true"),
    ]
    assert "NEM12-W011" in result.output


def test_the_commands_usage_errors(tmp_path: Path) -> None:
    sample = str(CORPUS / "unzipped" / sorted(p.name for p in (CORPUS / "unzipped").iterdir())[0])
    assert export("-", "--to", "csv").exit_code == 2  # read twice: no standard input
    assert export(sample, "--to", "json").exit_code == 2


def test_polars_and_pandas_frames_hold_the_same_rows(tmp_path: Path) -> None:
    path = CORPUS / "nem12" / "NEM12#Scenario06#ETSAMDP#NEMMCO.zip"
    table = long_table([path])
    frame = nem2cdr.to_polars(path)
    assert frame.shape == (table.num_rows, table.num_columns)
    assert frame["value"].to_list() == table.column("value").to_pylist()
    pandas_frame = nem2cdr.to_pandas(path)
    assert list(pandas_frame["value"]) == table.column("value").to_pylist()
    assert pandas_frame["interval_start"][0].utcoffset() == timedelta(hours=10)


def test_record_batches_are_bounded(tmp_path: Path) -> None:
    path = CORPUS / "Example_NEM12_ManyNMIs.zip"
    batches = list(nem2cdr.to_arrow(path, batch_rows=500))
    assert len(batches) > 1
    assert max(b.num_rows for b in batches) < 500 + 288


@pytest.mark.parametrize("shape", ["long", "daily"])
def test_where_the_batches_are_cut_changes_no_row(shape: Literal["long", "daily"]) -> None:
    """A batch counts its intervals' positions in their days from its own first row: cut
    after any day (5, 15 and 30-minute days mixed), the table is the one built whole."""
    paths = [CORPUS / "Example_NEM12_ManyNMIs.zip", CORPUS / "Example_different_intervals.zip"]
    whole = nem2cdr.to_arrow(paths, shape).read_all()
    assert whole.to_batches()[0].num_rows == whole.num_rows  # one batch
    for rows in (1, 1001):
        cut = nem2cdr.to_arrow(paths, shape, batch_rows=rows).read_all()
        assert len(cut.to_batches()) > 2
        assert cut.equals(whole), rows
    if shape == "long":
        assert_days_match_reader(paths, whole)


@pytest.mark.parametrize("shape", ["long", "daily"])
def test_a_parquet_row_group_gathers_several_batches(
    shape: Literal["long", "daily"], tmp_path: Path
) -> None:
    path, out = CORPUS / "Example_NEM12_ManyNMIs.zip", tmp_path / "out.parquet"
    batches = [b.num_rows for b in nem2cdr.to_arrow(path, shape, batch_rows=500)]
    pool = pa.default_memory_pool().backend_name
    nem2cdr.export(path, out, to="parquet", shape=shape, batch_rows=500)
    assert pa.default_memory_pool().backend_name == pool  # the export's own pool is put back
    metadata = pq.ParquetFile(out).metadata
    groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    each = ROW_GROUP_BATCHES
    assert len(batches) > each
    assert groups == [sum(batches[i : i + each]) for i in range(0, len(batches), each)]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(days=interval_days())
def test_any_written_file_exports_its_days_exactly(days: list[IntervalDay], tmp_path: Path) -> None:
    source = tmp_path / "generated.csv"
    nem2cdr.write(source, days)
    table = long_table([source])
    assert_days_match_reader([source], table)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    assert pq.read_table(io.BytesIO(buffer.getvalue())).equals(table)


def test_without_pyarrow_the_command_says_so_in_one_line() -> None:
    sample = CORPUS / "unzipped" / sorted(p.name for p in (CORPUS / "unzipped").iterdir())[0]
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "from nem2cdr_cli.nem2cdr_commands import main\n"
        "sys.argv = ['nem2cdr', 'export', '--to', 'csv', sys.argv[1]]\n"
        "main()"
    )
    done = subprocess.run([sys.executable, "-c", code, str(sample)], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "nem2cdr export: this needs pyarrow, which is not installed: pip install 'nem2cdr[arrow]'\n"
    )


@pytest.mark.slow
def test_two_processes_write_what_one_writes(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    nem2cdr.generate(source, nmis=6, days=365, interval=5, seed=3)
    assert source.stat().st_size > 4 << 20  # big enough to be read in halves
    # The same day twice, one copy in each half: the later copy wins across the halves too.
    with open(source, "rb") as whole:
        lines = whole.read().split(b"\r\n")
    first_day = next(line for line in lines if line.startswith(b"300,"))
    stream = lines[1]
    lines[-2:-2] = [stream, first_day.replace(b"0.", b"1.", 1)]
    source.write_bytes(b"\r\n".join(lines))
    for workers in ("1", "2"):
        result = export(
            str(source),
            "--to",
            "parquet",
            "-o",
            str(tmp_path / f"{workers}.pq"),
            "--workers",
            workers,
            "--shape",
            "daily",
        )
        assert result.exit_code == 0, result.output
        assert "NEM12-W011" in result.output
    one, two = pq.read_table(tmp_path / "1.pq"), pq.read_table(tmp_path / "2.pq")
    assert one.equals(two)
    assert one.num_rows == nem2cdr.validate(source).stats.days - 1


def test_parquet_keeps_statistics_for_what_readers_filter_by(tmp_path: Path) -> None:
    """A reader skips row groups by the NMI, the suffix, the times and the values; the other
    text (a serial, a description) has no minimum and maximum to compute."""
    out = tmp_path / "out.parquet"
    nem2cdr.export(CORPUS / "Example_NEM12_ManyNMIs.zip", out, to="parquet")
    group = pq.ParquetFile(out).metadata.row_group(0)
    kept = {
        group.column(i).path_in_schema
        for i in range(group.num_columns)
        if group.column(i).is_stats_set
    }
    assert {"nmi", "suffix", "interval_start", "interval_end", "value", "reason_code"} <= kept
    assert not kept & {"register_id", "meter_serial", "reason_description", "source_file"}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("to", ["csv", "parquet"])
def test_a_full_disk_is_one_line_and_exit_1(to: Literal["csv", "parquet"]) -> None:
    """/dev/full refuses every write: the writer's thread meets it, this process reports it.
    Small batches, so the error comes from a row group written while the next is built."""
    path = CORPUS / "Example_NEM12_ManyNMIs.zip"
    result = CliRunner().invoke(cli, ["export", str(path), "--to", to, "-o", "/dev/full"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "nem2cdr export: cannot write /dev/full: No space left on device\n"
    with pytest.raises(OSError, match="No space left"):
        nem2cdr.export(path, "/dev/full", to=to, batch_rows=500)


def test_auto_is_one_process_below_three_cores() -> None:
    """The writer's thread keeps a second core busy: a second process only pays from three."""
    assert [processes("auto", n) for n in (1, 2, 3, 8)] == [1, 1, 2, 2]
    assert [processes(n, 2) for n in (1, 2)] == [1, 2]  # a number is taken as it is


def cpu_ticks(pid: int) -> int:
    """User and system time used so far by process ``pid`` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_until_idle(pid: int, still: float = 0.6) -> None:
    """Until process ``pid`` has used no CPU time for ``still`` seconds: all its threads wait."""
    ticks, since = cpu_ticks(pid), time.monotonic()
    while time.monotonic() - since < still:
        time.sleep(0.1)
        now = cpu_ticks(pid)
        if now != ticks:
            ticks, since = now, time.monotonic()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
@pytest.mark.parametrize("to", ["csv", "parquet"])
def test_ctrl_c_while_a_write_waits_on_its_reader_is_exit_130(to: str, tmp_path: Path) -> None:
    """Ctrl-C while this process waits on the writer's thread, which waits on a FIFO's reader:
    the write goes on until the reader takes it (the stream is not closed under it), then the
    export ends as any Ctrl-C does: exit 130 and one line."""
    source, fifo = tmp_path / "twelve.csv", tmp_path / "out.fifo"
    nem2cdr.generate(source, nmis=12, days=365, interval=5, seed=2)
    os.mkfifo(fifo)
    nem2cdr_script = str(Path(sys.executable).parent / "nem2cdr")
    child = subprocess.Popen(
        [nem2cdr_script, "export", str(source), "--to", to, "--workers", "1", "-o", str(fifo)],
        stderr=subprocess.PIPE,
    )
    assert child.stderr is not None
    with open(fifo, "rb") as reader:
        # The reader takes nothing: the pipe fills, the writer waits, then this process.
        wait_until_idle(child.pid)
        assert child.poll() is None, "the export ended before the pipe was full"
        child.send_signal(signal.SIGINT)
        time.sleep(0.3)
        written = reader.read()
    assert child.wait(timeout=30) == 130
    assert child.stderr.read().decode().splitlines() == ["nem2cdr: interrupted"]
    assert 0 < len(written) < 20 * source.stat().st_size
