"""Many ``mmtlite wrap`` processes at once into one inbound folder (docs/mmtlite.md, "The file
format"): each takes its own sequence and name under the numbering lock, none reports success for
rows that are not in its file, and every row loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mmtlite
from mmtlite.fileformat import parse
from tests.mmt_helpers import codes_file, rows_of

pytestmark = pytest.mark.slow  # a dozen processes

MMTLITE = str(Path(sys.executable).parent / "mmtlite")
WRAPS = 12
ROWS = 3


def test_many_wraps_at_once_lose_no_row(tmp_path: Path) -> None:
    home = tmp_path / "mmt"
    db = mmtlite.open(home)
    assert db.load(codes_file(tmp_path)).clean  # NC01, the code the rows carry
    sheets = []
    for n in range(WRAPS):
        sheet = tmp_path / f"sheet{n}.csv"
        sheet.write_text("".join(f"MSN{n:03d}{r:03d},NC01,20240101\n" for r in range(ROWS)))
        sheets.append(sheet)
    wraps = [
        subprocess.Popen(
            [MMTLITE, "--home", str(home), "wrap", "NONCOMM", str(sheet), "--action", "ADD"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for sheet in sheets
    ]
    said = [wrap.communicate(timeout=120) for wrap in wraps]
    assert [wrap.returncode for wrap in wraps] == [0] * WRAPS, said
    written = [Path(out.decode().split(" (")[0]) for out, _ in said]
    assert len(set(written)) == WRAPS
    parsed = [parse(path, env="build") for path in written]
    assert sorted(file.sequence or 0 for file in parsed) == list(range(1, WRAPS + 1))
    # Each process's file holds its own rows.
    for n, file in enumerate(parsed):
        assert [row.key for row in file.rows] == [f"MSN{n:03d}{r:03d}" for r in range(ROWS)]
    result = db.ingest()
    assert result.clean and len(result.files) == WRAPS
    assert len(rows_of(db.place, "NONCOMM")) == WRAPS * ROWS
