"""What an operator's machine does to mmtlite, told in one line each, exit 1 (docs/mmtlite.md,
"Damaged databases"): stdout on a full device, an HTML report that cannot be written (the old one
stays whole), a load that meets a full disk or a file size limit (rolled back; the database stays
sound and the next run loads). Real processes, real limits (``RLIMIT_FSIZE``), no mocks."""

from __future__ import annotations

import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

import mmtlite

MMTLITE = str(Path(sys.executable).parent / "mmtlite")


def limited(size: int) -> Callable[[], None]:
    """A child's files may grow to ``size`` bytes; past it, writes fail (EFBIG), no signal."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with 2,000 generated meters' files waiting, codes and device lists loaded."""
    home = tmp_path_factory.mktemp("generated") / "mmt"
    db = mmtlite.open(home)
    db.generate(2000, seed=5)
    waiting = sorted(home.glob("*/*/*/inbound/*.csv"))
    control = [path for path in waiting if path.name.startswith(("EXCLCODE", "DMCT", "EPCL"))]
    assert db.load(control).clean
    return home


def one_line(done: subprocess.CompletedProcess[bytes]) -> str:
    said = done.stderr.decode()
    assert done.returncode == 1, (done.stdout, said)
    assert "Traceback" not in said and len(said.strip().splitlines()) == 1, said
    return said.strip()


@pytest.mark.parametrize(
    "command", [["status"], ["report", "--format", "json"], ["log"], ["report", "--format", "csv"]]
)
def test_a_full_stdout_is_one_line_and_exit_1(generated: Path, command: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [MMTLITE, "--home", str(generated), *command],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    assert one_line(done) == "mmtlite: cannot write the output: No space left on device"


def test_an_html_report_that_cannot_be_written_leaves_the_old_one_whole(
    generated: Path, tmp_path: Path
) -> None:
    old = tmp_path / "report.html"
    old.write_text("last month's report\n")
    # A reader kept open: the database's shared-memory file exists, the child need not grow it.
    with closing(sqlite3.connect(generated / "mmt_build.sqlite")) as reader:
        reader.execute("SELECT count(*) FROM ledger").fetchall()
        done = subprocess.run(
            [MMTLITE, "--home", str(generated), "report", "--html", str(old)],
            capture_output=True,
            preexec_fn=limited(512),
            timeout=60,
            check=False,
        )
    assert one_line(done) == f"mmtlite: cannot write {old}: File too large"
    assert old.read_text() == "last month's report\n"
    assert [path.name for path in tmp_path.iterdir()] == ["report.html"]


def test_a_load_that_meets_a_size_limit_is_one_line_and_rolls_back(
    generated: Path, tmp_path: Path
) -> None:
    home = tmp_path / "mmt"
    shutil.copytree(generated, home)
    database = home / "mmt_build.sqlite"
    with closing(sqlite3.connect(database)) as reader:
        reader.execute("SELECT count(*) FROM ledger").fetchall()
        done = subprocess.run(
            [MMTLITE, "--home", str(home), "ingest", "-q"],
            capture_output=True,
            preexec_fn=limited(database.stat().st_size + 200_000),
            timeout=120,
            check=False,
        )
    line = one_line(done)
    assert line.startswith(f"mmtlite: {database}: disk I/O error (a full disk, a file size limit")
    db = mmtlite.open(home)
    assert db.check() == []
    again = db.ingest()
    assert again.clean and db.status().meters == 2000
