"""The real example corpus: AEMO's sample packs, contributor files and the broken ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import CORPUS

BROKEN_AEMO_SAMPLE = "NEM12#Scenario10#ETSAMDP#NEMMCO.zip"
GOOD = sorted(
    path
    for path in [
        *(CORPUS / "nem12").iterdir(),
        *(CORPUS / "nem13").iterdir(),
        *(CORPUS / "unzipped").iterdir(),
        CORPUS / "Example_NEM12_ManyNMIs.zip",
        CORPUS / "Example_different_intervals.zip",
    ]
    if path.name != BROKEN_AEMO_SAMPLE
)


def validate_json(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(cli, ["validate", "--format", "json", *args])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output)


def test_the_corpus_is_all_there() -> None:
    assert len(GOOD) == 94 + 61 + 12 + 2 - 1


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_every_good_example_validates(path: Path) -> None:
    exit_code, [report] = validate_json(str(path))
    assert exit_code == 0, report["errors"]
    assert report["ok"] is True
    stats = report["stats"]
    assert isinstance(stats, dict)
    assert stats["days"] + stats["basic_reads"] > 0
    assert stats["values"] > 0


def test_every_good_example_at_once() -> None:
    exit_code, reports = validate_json(*map(str, GOOD))
    assert exit_code == 0
    assert len(reports) == len(GOOD)


def test_the_broken_aemo_sample_reports_its_broken_row() -> None:
    exit_code, [report] = validate_json(str(CORPUS / "nem12" / BROKEN_AEMO_SAMPLE))
    assert exit_code == 1
    errors = report["errors"]
    assert isinstance(errors, list)
    assert [(e["code"], e["line"]) for e in errors] == [("NEM12-E016", 27)]
    assert "lines 27-29" in errors[0]["message"]
    # Everything else in the file is read: 7 good days of 48 values.
    assert report["stats"] == {"nmis": 1, "streams": 3, "days": 7, "basic_reads": 0, "values": 336}


INVALID = CORPUS / "invalid"


@pytest.mark.parametrize(
    ("name", "code", "line"),
    [
        ("Example_NEM12_15min_200_30min_300.csv", "NEM12-E012", 3),
        ("Example_NEM12_30min_200_15min_300.csv", "NEM12-E012", 3),
        ("Example_NEM12_30min_200_15min_400.csv", "NEM12-E012", 3),
        ("Example_NEM12_15min_200_30min_400.csv", "NEM12-E022", 5),
        ("Example_NEM12_incomplete_interval.csv", "NEM12-E012", 3),
        ("Example_NEM12_empty.csv", "NEM12-E001", None),
        ("Example_empty_file.csv", "NEM12-E001", None),
    ],
)
def test_invalid_files_are_errors_with_a_line(name: str, code: str, line: int | None) -> None:
    exit_code, [report] = validate_json(str(INVALID / name))
    assert exit_code == 1
    assert report["ok"] is False
    errors = report["errors"]
    assert isinstance(errors, list)
    assert [(e["code"], e["line"]) for e in errors] == [(code, line)]


def test_a_wrong_interval_count_names_both_counts() -> None:
    reader = nem2cdr.read(INVALID / "Example_NEM12_15min_200_30min_300.csv")
    assert reader.records() == []
    [error] = reader.diagnostics.errors
    assert error.message == (
        "300 row has 48 values, 200 record (line 2) says IntervalLength 15 (96 expected)"
    )


def test_the_incomplete_interval_skips_only_its_day() -> None:
    reader = nem2cdr.read(INVALID / "Example_NEM12_incomplete_interval.csv")
    days = reader.records()
    assert [(d.stream.suffix, d.date.isoformat()) for d in days] == [  # type: ignore[union-attr]
        ("E1", "2004-02-02"),
        ("Q1", "2004-02-01"),
        ("Q1", "2004-02-02"),
    ]


@pytest.mark.parametrize(
    ("name", "values", "warnings"),
    [
        (
            "Example_NEM12_powercor.csv",
            192,
            {"NEM12-W001", "NEM12-W003", "NEM12-W004", "NEM12-W011"},
        ),
        ("Example_NEM12_powercor.csv.zip", 192, {"NEM12-W001", "NEM12-W004", "NEM12-W011"}),
        ("Example_NEM12_powercor_missing_fields.csv", 192, {"NEM12-W006", "NEM12-W011"}),
        ("Example_NEM12_missing_header.csv", 96, {"NEM12-W001"}),
    ],
)
def test_tolerated_files_keep_every_value_and_fail_strict(
    name: str, values: int, warnings: set[str]
) -> None:
    exit_code, [report] = validate_json(str(INVALID / name))
    assert exit_code == 0
    assert report["errors"] == []
    stats = report["stats"]
    assert isinstance(stats, dict) and stats["values"] == values
    found = report["warnings"]
    assert isinstance(found, list)
    assert warnings <= {w["code"] for w in found}

    reader = nem2cdr.read(INVALID / name)
    total = sum(sum(day.values) for day in reader if isinstance(day, nem2cdr.IntervalDay))
    assert total > 0

    exit_code, [strict] = validate_json("--strict", str(INVALID / name))
    assert exit_code == 1
    assert strict["ok"] is False
    strict_errors = strict["errors"]
    assert isinstance(strict_errors, list)
    assert warnings <= {e["code"] for e in strict_errors}


def test_powercor_values_are_all_there_exactly() -> None:
    days = nem2cdr.read(INVALID / "Example_NEM12_powercor.csv").records()
    assert [day.values[0] for day in days] == [1.111, 2.222, 3.333, 4.444]  # type: ignore[union-attr]
    assert all(len(day.values) == 48 for day in days)  # type: ignore[union-attr]
