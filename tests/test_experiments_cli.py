"""The experiments command around the run: progress, output paths checked first, 80 columns."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import nem2cdr_experiments as experiments
from nem2cdr_cli.nem2cdr_commands import cli

SAMPLE = Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_goes_through_reading_then_measuring_to_the_end(workers: int) -> None:
    heard: list[tuple[str, float]] = []
    experiments.run(
        SAMPLE,
        only="00,08",
        codecs="gzip:1",
        workers=workers,
        on_progress=lambda stage, fraction: heard.append((stage, fraction)),
    )
    stages = [stage for stage, _ in heard]
    assert stages == sorted(stages, key=["reading", "measuring"].index)
    assert "reading" in stages
    measuring = [fraction for stage, fraction in heard if stage == "measuring"]
    assert measuring == sorted(measuring)
    if workers == 1:  # with workers the parent samples their counters: the end may fall between
        assert measuring[-1] == 1.0


@pytest.mark.parametrize(
    ("option", "name", "reason"),
    [
        ("--chart", "a-file/c.svg", "Not a directory"),
        ("--out-dir", "a-file/payloads", "Not a directory"),
    ],
)
def test_an_output_that_cannot_be_written_is_one_line_before_any_work(
    tmp_path: Path, option: str, name: str, reason: str
) -> None:
    (tmp_path / "a-file").write_text("")
    missing = tmp_path / "not-read.csv"  # the input is never opened: the check comes first
    target = tmp_path / name
    result = CliRunner().invoke(cli, ["experiments", str(missing), option, str(target)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"nem2cdr experiments: cannot write {target}: {reason}\n"


def test_the_library_checks_out_dir_and_chart_before_reading(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(experiments.OutputError, match="Not a directory"):
        experiments.run(tmp_path / "not-read.csv", out_dir=tmp_path / "a-file" / "x")
    with pytest.raises(experiments.OutputError, match="Is a directory"):
        experiments.check_file(tmp_path)


def test_quiet_is_accepted_and_a_pipe_gets_no_bar() -> None:
    for extra in ([], ["--quiet"]):
        result = CliRunner().invoke(
            cli, ["experiments", str(SAMPLE), "--only", "10", "--codecs", "gzip:1", *extra]
        )
        assert result.exit_code == 0
        assert result.stderr == ""


@pytest.mark.parametrize("codecs", ["default", "max"])
def test_the_default_table_fits_80_columns_and_cuts_no_cell(codecs: str) -> None:
    result = CliRunner().invoke(
        cli, ["experiments", str(SAMPLE), "--codecs", codecs], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0
    path, *lines = result.stdout.splitlines()
    assert path == str(SAMPLE)  # on a line of its own: the one line that may be longer
    assert max(map(len, lines)) <= 80
    assert "…" not in result.stdout
    for label in experiments.codecs.parse(codecs):
        assert label.label in result.stdout
    assert "2,512" in result.stdout and "-62.2%" in result.stdout  # 00's raw kB, 01's change


def test_wide_prints_every_column_whole_when_redirected() -> None:
    result = CliRunner().invoke(
        cli, ["experiments", str(SAMPLE), "--wide", "--only", "00,08"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0
    assert "…" not in result.stdout
    assert "1,021.6 kB (-59.34%)" in result.stdout and "page 1000" in result.stdout


def test_cpu_cost_per_response_and_cores_in_json_and_csv() -> None:
    args = ["experiments", str(SAMPLE), "--only", "00,10", "--requests", "100"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0
    for experiment in json.loads(result.stdout)["experiments"]:
        cpu = experiment["cpu"]
        assert set(cpu) == {"encode_ms", "compress_ms", "cores_on_the_fly", "precompress_ms"}
        assert cpu["encode_ms"] > 0 and set(cpu["compress_ms"]) == {"gzip-6", "zstd-3", "brotli-5"}
        for label, compress_ms in cpu["compress_ms"].items():
            once = cpu["precompress_ms"][label]
            assert once == pytest.approx(cpu["encode_ms"] + compress_ms, abs=0.002)
            assert cpu["cores_on_the_fly"][label] == pytest.approx(100 * once / 1000, abs=0.002)
    table = CliRunner().invoke(cli, [*args, "--format", "csv"])
    header, *rows = csv.reader(io.StringIO(table.stdout))
    assert "encode_cpu_ms" in header and "cores_on_the_fly_brotli-5" in header
    column = header.index("cores_on_the_fly_gzip-6")
    assert all(float(row[column]) > 0 for row in rows)


@pytest.mark.parametrize(
    ("only", "ids"),
    [
        ("00-03", ["00", "01", "02", "03"]),
        ("08-08", ["08"]),
        ("00-01,cdr-full,13-99", ["00", "01", "08", "13", "14"]),
    ],
)
def test_only_takes_ranges_of_ids(only: str, ids: list[str]) -> None:
    assert [e.id for e in experiments.experiments(only.split(","))] == ids


@pytest.mark.parametrize("only", ["07-03", "20-30", "0x-07", "-"])
def test_a_range_that_takes_in_nothing_is_unknown(only: str) -> None:
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.experiments([only])
