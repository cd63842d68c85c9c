"""The reports as text (docs/mmtlite.md, "Reports"): the terminal report fits 80 columns, also
when redirected, folding long cells rather than cutting them (``--wide`` shows every column);
causes show what their code means; CSV cells never start a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import mmtlite
from nem2cdr_cli.mmtlite_commands import cli

MMTLITE = str(Path(sys.executable).parent / "mmtlite")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs' world: 1,000 meters, seed 7, a tranche of 200."""
    home = tmp_path_factory.mktemp("report") / "mmt"
    db = mmtlite.open(home)
    db.generate(1000, seed=7)
    assert db.ingest().clean
    db.select("2024-03", 200)
    return home


def redirected(home: Path, *args: str) -> list[str]:
    environment = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    done = subprocess.run(
        [MMTLITE, "--home", str(home), "report", *args],
        capture_output=True,
        env=environment,
        timeout=60,
        check=True,
    )
    return done.stdout.decode().splitlines()


def test_the_report_fits_80_columns_when_redirected_and_cuts_no_code(home: Path) -> None:
    lines = redirected(home)
    assert max(map(len, lines)) <= 80
    text = "\n".join(lines)
    assert "…" not in text
    codes = {r.code for r in mmtlite.open(home).report().exclusions}
    # Two devices that differ only at their end both show whole (they were both "DMC-SEC…").
    assert {"DMC-SEC-LIBERTYG4-2.0.1", "DMC-SEC-LIBERTY100-4.0.0"} <= codes
    for code in codes:
        assert f" {code} " in text, code
    assert "│ NC01 " in text and "│ Communications " in text  # its description, folded


def test_wide_shows_every_column_whole(home: Path) -> None:
    lines = redirected(home, "--wide")
    text = "\n".join(lines)
    for heading in ("status", "site-wide", "direct", "site share", "selected"):
        assert heading in text
    assert "Communications hub offline for 30 days or more" in text  # on one line
    assert max(map(len, lines)) > 80


def test_csv_cells_that_would_be_formulas_are_neutralised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "mmt"
    mmtlite.open(home).init()
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)  # the names as given, relative: the log keeps them so
    for name in ("=1+2.csv", "@SUM(A1).csv", "+cmd.csv", "-2+3.csv"):
        Path(name).write_text("HDR|NONCOMM|1|20240101000000|BUILD\nTRL|0\n")
        loaded = runner.invoke(cli, ["--home", str(home), "load", "-q", "--", name])
        assert loaded.exit_code == 1, loaded.output
    for command in ("log", "errors"):
        done = runner.invoke(cli, ["--home", str(home), command, "--format", "csv"])
        assert done.exit_code == 0, done.output
        rows = list(csv.DictReader(io.StringIO(done.stdout)))
        files = sorted(row["file"] for row in rows)
        assert files == sorted(
            ["'+cmd.csv", "'-2+3.csv", "'=1+2.csv", "'@SUM(A1).csv"] * (len(rows) // 4)
        ), files
        cells = [cell for row in rows for cell in row.values()]
        assert not [cell for cell in cells if cell[:1] in ("=", "+", "@")], cells
