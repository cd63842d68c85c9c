"""The mmtlite commands built so far: validate and template, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.mmtlite_cli import cli

GOOD = "HDR|NONCOMM|7|20240105093000|BUILD\nMSN000001|NC01|20240101|ADD\nTRL|1\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_a_good_file(tmp_path: Path) -> None:
    path = write(tmp_path, "NONCOMM_BUILD_20240105093000.csv", GOOD)
    result = CliRunner().invoke(cli, ["validate", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    assert (report["ok"], report["category"], report["sequence"], report["rows"]) == (
        True, "NONCOMM", 7, 1,
    )  # fmt: skip


def test_validate_reports_bad_rows_and_refusals_with_lines(tmp_path: Path) -> None:
    bad_row = write(
        tmp_path, "NONCOMM_BUILD_20240105093001.csv",
        GOOD.replace("20240101|ADD", "20241301|ADD"),
    )  # fmt: skip
    wrong_count = write(
        tmp_path, "NONCOMM_BUILD_20240105093002.csv", GOOD.replace("TRL|1", "TRL|5")
    )
    other_env = write(tmp_path, "NONCOMM_PROD_20240105093003.csv", GOOD.replace("|BUILD", "|PROD"))
    runner = CliRunner()
    result = runner.invoke(
        cli, ["validate", "--format", "json", str(bad_row), str(wrong_count), str(other_env)]
    )
    assert result.exit_code == 1
    reports = json.loads(result.output)
    [row_error] = reports[0]["row_errors"]
    assert (row_error["line"], row_error["column"], row_error["code"]) == (
        2,
        "detected_date",
        "MMT-R005",
    )
    assert [f["code"] for f in reports[1]["control_failures"]] == ["MMT-C013"]
    assert "MMT-C015" in [f["code"] for f in reports[2]["control_failures"]]
    table = runner.invoke(cli, ["validate", str(bad_row)])
    assert table.exit_code == 1 and "MMT-R005 line 2 column detected_date" in table.output


def test_a_template_validates_as_an_empty_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--env", "sogl", "template", "epcl", "--sequence", "3"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("HDR|EPCL|3|") and lines[0].endswith("|SOGL")
    assert lines[-1] == "TRL|0"
    name = next(line for line in result.stderr.splitlines() if line.startswith("# EPCL_SOGL_"))
    path = write(tmp_path, name[2:], result.stdout)
    checked = CliRunner().invoke(cli, ["--env", "sogl", "validate", str(path)])
    assert checked.exit_code == 0, checked.output
