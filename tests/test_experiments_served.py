"""The served-cost column: a load run's CPU per response of ``nem2cdr serve``, fed into the
experiments' cost model (``--served-cpu FILE``, written by ``load_serve --served-out``)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from benchmarks.load_serve import DAYS, INTERVAL, Cell, Run, served
from nem2cdr_cli.nem2cdr_commands import cli
from nem2cdr_experiments.cost import ServedCpu

SAMPLE = Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"
CPU_MS = {("FULL", "gzip"): 93.3, ("FULL", "zstd"): 21.8, ("NONE", "gzip"): 16.4}


def load_run(tmp_path: Path) -> Path:
    """A served-CPU file as the load benchmark writes it, from cells of its own type (the
    three-register cells are left out: a response of one register is the unit)."""
    cells = [
        Cell(shape, mode, coding, 1000, [Run(1, 10.0, 0.1, 0.2, 0.3, ms / 1000, 0)])
        for shape in ("one", "three")
        for (mode, coding), ms in CPU_MS.items()
    ]
    path = tmp_path / "served.json"
    path.write_bytes(msgspec.json.encode(served(cells, workers=2)))
    return path


def test_the_load_benchmark_writes_what_experiments_reads(tmp_path: Path) -> None:
    measured = msgspec.json.decode(load_run(tmp_path).read_bytes(), type=ServedCpu)
    assert len(measured.responses) == len(CPU_MS)  # one register only
    full_gzip = measured.ms_per_value("FULL", "gzip", 6)
    assert full_gzip == pytest.approx(93.3 / (DAYS * 24 * 60 // INTERVAL))
    assert measured.ms_per_value("FULL", "gzip", 9) is None  # the server ran at level 6
    assert measured.ms_per_value("MIN_30", "gzip", 6) is None  # not measured
    assert measured.ms_per_value("FULL", "zstd", 3) is not None


def test_served_figures_scale_the_servers_cpu_per_value_to_the_response(tmp_path: Path) -> None:
    path = load_run(tmp_path)
    args = ["experiments", str(SAMPLE), "--only", "08-11", "--requests", "100"]
    result = CliRunner().invoke(cli, [*args, "--served-cpu", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cost"]["served"]["measured"].startswith("benchmarks/load_serve.py")
    per_value = {key: ms / (DAYS * 24 * 60 // INTERVAL) for key, ms in CPU_MS.items()}
    by_id = {e["id"]: e for e in report["experiments"]}
    full = by_id["08"]["served"]
    assert set(full["cpu_ms"]) == {"gzip-6", "zstd-3"}  # brotli was not measured
    assert full["cpu_ms"]["gzip-6"] == pytest.approx(
        per_value["FULL", "gzip"] * report["values"], abs=0.001
    )
    assert full["cores"]["zstd-3"] == pytest.approx(100 * full["cpu_ms"]["zstd-3"] / 1000, 1e-3)
    assert by_id["09"]["served"] == {"cpu_ms": {}, "cores": {}}  # MIN_30 was not measured
    assert set(by_id["10"]["served"]["cpu_ms"]) == {"gzip-6"}
    assert by_id["11"]["served"] is None  # MessagePack: not what the server answers
    without = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert "served" not in json.loads(without.stdout)["cost"]
    assert all(e["served"] is None for e in json.loads(without.stdout)["experiments"])


def test_served_columns_in_csv_and_the_80_column_table(tmp_path: Path) -> None:
    path = load_run(tmp_path)
    args = ["experiments", str(SAMPLE), "--only", "00,08", "--served-cpu", str(path)]
    table = CliRunner().invoke(cli, [*args, "--format", "csv"])
    header, *rows = csv.reader(io.StringIO(table.stdout))
    assert header[-1] == "rationale"
    column = header.index("served_cores_gzip-6")
    assert [row[column] != "" for row in rows] == [False, True]  # 00 is not a served response
    text = CliRunner().invoke(cli, args, env={"COLUMNS": "80"})
    assert text.exit_code == 0
    assert "served: the server's CPU ms per response" in text.stdout
    assert max(map(len, text.stdout.splitlines()[1:])) <= 80
    assert "…" not in text.stdout
    wide = CliRunner().invoke(cli, [*args, "--wide"])
    assert "served cores" in wide.stdout and "served figures measured by" in wide.stdout
    assert "the server's CPU per response and its cores (served)" in " ".join(wide.stdout.split())


def one(twice: bool = False, **changed: object) -> str:
    """A served-CPU file of one FULL gzip 6 response (two alike, ``twice``), ``changed``."""
    response = {"interval_reads": "FULL", "coding": "gzip", "level": 6, "values": 1000}
    response |= {"cpu_ms": 9.5, **changed}
    return json.dumps({"measured": "x", "responses": [response] * (2 if twice else 1)})


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_text("{"), "not a served-CPU file"),
        (lambda p: p.write_text('{"measured": "x"}'), "not a served-CPU file"),
        (lambda p: os.mkfifo(p), "not a regular file"),
        (lambda p: p.write_bytes(b" " * (2 << 20)), "larger than"),
        (lambda p: None, "cannot read: No such file or directory"),
        (lambda p: p.write_text(one(cpu_ms=-5)), "> 0.0 - at `$.responses[0].cpu_ms`"),
        (lambda p: p.write_text(one(cpu_ms=0)), "> 0.0 - at `$.responses[0].cpu_ms`"),
        (lambda p: p.write_text(one(values=0)), ">= 1 - at `$.responses[0].values`"),
        (lambda p: p.write_text(one(values=-9)), ">= 1 - at `$.responses[0].values`"),
        (lambda p: p.write_text(one(interval_reads="full")), "`$.responses[0].interval_reads`"),
        (lambda p: p.write_text(one(coding="lzma")), "'lzma' - at `$.responses[0].coding`"),
        (lambda p: p.write_text(one(level=None)), "gzip needs a level - at `$.responses[0]`"),
        (lambda p: p.write_text(one(coding="identity")), "identity has no level"),
        (lambda p: p.write_text(one(twice=True)), "responses[1] measures FULL gzip 6 again"),
        (lambda p: p.write_text('{"measured": "x", "responses": []}'), "at `$.responses`"),
    ],
)
def test_a_bad_served_file_is_one_line_before_any_work(
    tmp_path: Path, make: object, reason: str
) -> None:
    path = tmp_path / "served.json"
    assert callable(make)
    make(path)
    missing = tmp_path / "not-read.csv"  # the input is never opened: the check comes first
    result = CliRunner().invoke(cli, ["experiments", str(missing), "--served-cpu", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"nem2cdr experiments: {path}: ")
    assert reason in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_run_without_08_to_10_says_so_instead_of_an_empty_served_table(tmp_path: Path) -> None:
    path = load_run(tmp_path)
    args = ["experiments", str(SAMPLE), "--only", "00,11", "--served-cpu", str(path)]
    text = CliRunner().invoke(cli, args, env={"COLUMNS": "80"})
    assert text.exit_code == 0
    assert "served: none of the adopted standard's responses (08-10) ran" in text.stdout
    assert "served: the server's CPU ms per response" not in text.stdout
