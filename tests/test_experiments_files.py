"""Every valid file gets an honest run: hourly and daily data, a file that mixes in NEM13."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr.generator import generate
from nem2cdr_cli.nem2cdr_commands import cli

NEM13 = (
    Path(__file__).parent
    / "data"
    / "nem12-examples"
    / "unzipped"
    / "Example_NEM13_consumption_data.csv"
)


def coarser(source: Path, target: Path, minutes: int) -> None:
    """``source`` (30-minute data) with each run of ``minutes / 30`` intervals summed into one."""
    group = minutes // 30
    out = []
    for line in source.read_text().splitlines():
        fields = line.split(",")
        if fields[0] == "200":
            fields[8] = str(minutes)
        elif fields[0] == "300":
            values = [float(v) for v in fields[2:50]]
            sums = [f"{round(sum(values[i : i + group]), 3):g}" for i in range(0, 48, group)]
            fields = [*fields[:2], *sums, *fields[50:]]
        out.append(",".join(fields))
    target.write_text("\n".join(out) + "\n")


@pytest.mark.parametrize("minutes", [60, 1440])
def test_hourly_and_daily_data_run_with_min30_not_applicable(tmp_path: Path, minutes: int) -> None:
    generate(tmp_path / "30.csv", nmis=2, days=5, interval=30, seed=3)
    coarse = tmp_path / f"{minutes}.csv"
    coarser(tmp_path / "30.csv", coarse, minutes)
    result = CliRunner().invoke(cli, ["experiments", str(coarse), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_id = {e["id"]: e for e in report["experiments"]}
    assert by_id["09"]["roundtrip"] == "n/a"
    assert by_id["09"]["compressed"] == {} and by_id["09"]["change"] == {}
    assert f"has {minutes} minutes" in by_id["09"]["not_applicable"]
    lossless = [e for e in report["experiments"] if e["lossless"]]
    assert {e["roundtrip"] for e in lossless} == {"ok"}
    assert all(e["not_applicable"] is None for e in report["experiments"] if e["id"] != "09")
    table = CliRunner().invoke(cli, ["experiments", str(coarse), "--only", "08,09"])
    assert table.exit_code == 0 and "(not applicable: MIN_30 needs" in table.stdout


def test_a_file_mixing_nem12_and_nem13_is_refused_not_cut(tmp_path: Path) -> None:
    """A zip of a NEM12 and a NEM13 file: valid, and half of it is not interval data."""
    generate(tmp_path / "12.csv", nmis=1, days=2, interval=30, seed=3)
    mixed = tmp_path / "mixed.zip"
    with zipfile.ZipFile(mixed, "w") as archive:
        archive.write(tmp_path / "12.csv", "12.csv")
        archive.write(NEM13, "13.csv")
    assert nem2cdr.validate(mixed).ok
    result = CliRunner().invoke(cli, ["experiments", str(mixed)])
    assert (result.exit_code, result.stdout) == (1, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"nem2cdr experiments: {mixed}:2: the file mixes")
    basic = sum(line.startswith("250,") for line in NEM13.read_text().splitlines())
    assert f"interval data with {basic} NEM13 basic reads" in line


def test_a_nem13_file_alone_is_refused_as_before() -> None:
    result = CliRunner().invoke(cli, ["experiments", str(NEM13)])
    assert result.exit_code == 1
    assert "no interval data (NEM12 300 records) to encode" in result.stderr
