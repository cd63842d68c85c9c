"""The code catalogue's whole-run check (tests/code_catalogue.py) fails when it should."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nem2cdr.diagnostics import CODES

REPO = Path(__file__).parent.parent


def run_suite(folder: Path, test: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A tiny suite of its own, run under the catalogue plugin as pytest would run ours."""
    (folder / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["t"]\n')
    (folder / "t").mkdir()
    (folder / "t" / "test_one.py").write_text(test)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.code_catalogue", "-n", "0", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


PRODUCES_ONE = """
from nem2cdr.diagnostics import Diagnostics

def test_one() -> None:
    Diagnostics().add("NEM12-W003", "f.csv", 1, "blank line")
"""


@pytest.mark.slow
def test_a_whole_run_that_leaves_codes_unproduced_fails(tmp_path: Path) -> None:
    done = run_suite(tmp_path, PRODUCES_ONE)
    assert done.returncode == 1, done.stdout
    assert "catalogued codes no test produces: CDR-E001," in done.stdout
    assert "NEM12-W003" not in done.stdout.split("produces:")[1]
    assert len(CODES) > 1


@pytest.mark.slow
def test_a_code_missing_from_the_catalogue_fails_the_run(tmp_path: Path) -> None:
    test = PRODUCES_ONE.replace("NEM12-W003", "NEM12-E999")
    done = run_suite(tmp_path, test)
    assert done.returncode == 1
    assert "codes produced that nem2cdr.diagnostics.CODES lacks: NEM12-E999" in done.stdout


@pytest.mark.slow
def test_a_partial_run_is_not_checked(tmp_path: Path) -> None:
    done = run_suite(tmp_path, PRODUCES_ONE, "-k", "one")
    assert done.returncode == 0, done.stdout
    assert "code catalogue" not in done.stdout


def test_every_code_written_in_the_source_is_catalogued() -> None:
    """The static half: a code in nem2cdr's source that no test reaches is still checked."""
    catalogue = (REPO / "nem2cdr" / "diagnostics.py").read_text("utf-8")
    written: set[str] = set()
    for path in (REPO / "nem2cdr").glob("*.py"):
        if path.name != "diagnostics.py":
            written |= set(re.findall(r"\b(?:NEM12|CDR)-[EW]\d{3}\b", path.read_text("utf-8")))
    assert written, "the scan found no codes: its pattern is wrong"
    assert written <= set(CODES)
    assert set(re.findall(r'"((?:NEM12|CDR)-[EW]\d{3})"', catalogue)) == set(CODES)
