"""--thread-compat: 00-07 as the 2022 script wrote them, each behaviour checked directly."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import nem2cdr_experiments as experiments
from nem2cdr.generator import generate
from nem2cdr_cli.nem2cdr_commands import cli
from nem2cdr_experiments.data import DayRead, load
from nem2cdr_experiments.thread_compat import ranges

UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compat") / "gen.csv"
    generate(path, nmis=2, days=3, interval=15, seed=5)
    return path


def payloads(path: Path, out: Path, seed: int = 0) -> dict[str, Any]:
    only = "00,01,02,03,04,05,06,07"
    experiments.run(path, only=only, out_dir=out, codecs="gzip:6", thread_compat=True, seed=seed)
    return {p.name[:2]: json.loads(p.read_bytes()) for p in out.iterdir() if p.name[:2] < "08"}


def keys_in_order(payload: bytes) -> list[bytes]:
    return re.findall(rb'"([A-Za-z_]+)":', payload)


def test_records_are_a_top_level_list_with_compact_dates_and_upper_case_uuids(
    generated: Path, tmp_path: Path
) -> None:
    found = payloads(generated, tmp_path / "p")
    data = load(generated)
    for payload in found.values():
        assert isinstance(payload, list)
        assert all(re.fullmatch(r"\d{8}", record["readStartDate"]) for record in payload)
        assert all(UUID.fullmatch(record["servicePointId"]) for record in payload)
    baseline = found["00"]
    assert len(baseline) == len(data.reads)
    assert {r["servicePointId"] for r in baseline}.isdisjoint(
        {r["servicePointId"] for r in found["06"]}
    )  # 06 drew new UUIDs
    first = baseline[0]
    assert first["intervalRead"]["readIntervalLength"] == "15"  # the file's text, a string


def _read_for(data_reads: list[DayRead], record: dict[str, Any]) -> DayRead:
    day = record["readStartDate"]
    day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    key = (record["meterID"], record["registerSuffix"], day)  # the UUID does not name the NMI
    (read,) = [r for r in data_reads if (r.meter_serial, r.suffix, r.date) == key]
    return read


def test_values_have_three_significant_figures_and_the_aggregate_is_the_plain_sum(
    generated: Path, tmp_path: Path
) -> None:
    baseline = payloads(generated, tmp_path / "p")["00"]
    reads = load(generated).reads
    for record in baseline:
        read = _read_for([r for r in reads], record)
        values = [item["value"] for item in record["intervalRead"]["intervalReads"]]
        assert values == [float(f"{v:.3g}") for v in read.values]
        total = 0.0
        for value in read.values:
            total += value
        assert record["intervalRead"]["aggregateValue"] == float(f"{total:.15g}")


def test_04_keeps_every_read_and_lists_the_zeros(generated: Path, tmp_path: Path) -> None:
    found = payloads(generated, tmp_path / "p")
    for with_zeros, listed in zip(found["00"], found["04"], strict=True):
        reads = listed["intervalRead"]["intervalReads"]
        assert len(reads) == len(with_zeros["intervalRead"]["intervalReads"])
        zeros = [i for i, item in enumerate(reads, 1) if not item["value"] > 0]
        assert listed["intervalRead"]["removedReads"] == ranges(zeros)


def test_07_gives_every_register_the_reads_of_all(generated: Path, tmp_path: Path) -> None:
    found = payloads(generated, tmp_path / "p")
    for nested, plain in zip(found["06"], found["07"], strict=True):
        registers = nested["intervalRead"]["intervalReads"]
        every = sum(len(r["reads"]) for r in registers.values())
        assert len(registers) >= 2
        for register in plain["intervalRead"]["intervalReads"].values():
            assert len(register["reads"]) == every  # each read carried once per register


def test_key_order_is_shuffled_per_object_and_fixed_by_the_seed(
    generated: Path, tmp_path: Path
) -> None:
    one = (tmp_path / "a", tmp_path / "b", tmp_path / "c")
    for out, seed in zip(one, (1, 1, 2), strict=True):
        payloads(generated, out, seed)
    text = [(out / "00-baseline.json").read_bytes() for out in one]
    assert text[0] == text[1]
    assert text[0] != text[2] and json.loads(text[0]) != json.loads(text[2])  # UUIDs differ too
    orders = {
        tuple(keys_in_order(record))
        for record in re.findall(rb'\{"[^{]*?"readUType"[^}]*', text[0])
    }
    assert len(orders) > 1  # not one fixed order


def test_the_run_says_compat_and_seed_and_gzip_is_zlib_default(
    generated: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "experiments",
            str(generated),
            "--thread-compat",
            "--seed",
            "3",
            "--only",
            "00,01",
            "--codecs",
            "gzip:6",
            "--format",
            "json",
            "--out-dir",
            str(tmp_path / "p"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["thread_compat"], report["seed"]) == (True, 3)
    payload = (tmp_path / "p" / "00-baseline.json").read_bytes()
    assert report["experiments"][0]["compressed"]["gzip-6"] == len(
        gzip.compress(payload, 6, mtime=0)
    )
    assert {e["roundtrip"] for e in report["experiments"]} == {"n/a"}  # lossy: 3 figures


def test_seed_without_thread_compat_is_a_usage_error(generated: Path) -> None:
    result = CliRunner().invoke(cli, ["experiments", str(generated), "--seed", "3"])
    assert result.exit_code == 2 and "--thread-compat" in result.stderr


def test_default_json_has_no_compat_keys(generated: Path) -> None:
    result = CliRunner().invoke(
        cli, ["experiments", str(generated), "--only", "10", "--format", "json"]
    )
    assert "thread_compat" not in json.loads(result.stdout)


def test_the_published_figures_stand_beside_the_measured_ones(generated: Path) -> None:
    # Where the thread's published gzip change is known, JSON, CSV and the table carry it
    # beside the measured one; where it is not, JSON has null, CSV is empty, the table "?".
    args = ["experiments", str(generated), "--only", "00-07", "--thread-compat", "-q"]
    runner = CliRunner()
    table = runner.invoke(cli, [*args, "--codecs", "gzip:6"])
    assert table.exit_code == 0, table.output
    rows = {line.split()[0]: line.split()[1:] for line in table.output.splitlines() if "%" in line}
    assert rows["01"][1:] != ["?"] and "-12.6%" in rows["01"]
    assert "-7.7%" in rows["07"] and rows["02"][-1] == "?"
    report = json.loads(runner.invoke(cli, [*args, "--format", "json"]).output)
    published = {r["id"]: r.get("published_gzip_change") for r in report["experiments"]}
    assert published == {"00": None, "01": -12.6, "02": None, "03": None, "04": None,
                         "05": None, "06": None, "07": -7.7}  # fmt: skip
    lines = runner.invoke(cli, [*args, "--format", "csv"]).output.splitlines()
    column = lines[0].split(",").index("published_change_gzip-6_%")
    assert [line.split(",")[column] for line in lines[1:]][:3] == ["", "-12.60", ""]


def test_default_runs_carry_no_published_figures(generated: Path) -> None:
    args = ["experiments", str(generated), "--only", "00-01", "-q", "--format"]
    report = json.loads(CliRunner().invoke(cli, [*args, "json"]).output)
    assert [r["published_gzip_change"] for r in report["experiments"]] == [None, None]
    header = CliRunner().invoke(cli, [*args, "csv"]).output.splitlines()[0]
    assert "published" not in header
