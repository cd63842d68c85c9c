"""Odd entries in the inbound folders and odd paths given to ``load`` (docs/mmtlite.md, "Loading:
exactly once"): only regular files are read, never more than ``--max-size``, never a FIFO or a
device (which would block or never end); names that are not UTF-8, links to nothing and folders
are said by name and passed over while the rest loads. Also: a file stamped in the future warns,
and ``ingest`` publishes an outbound file a crash left hidden."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import mmtlite
from mmtlite.activity import LOADED, REFUSED
from mmtlite.codes import C_UNREADABLE
from mmtlite.fileformat import write
from mmtlite.paths import Place
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_helpers import codes_file, in_tranche, make, meter, rows_of
from tests.peak import peak_rss

MMTLITE = str(Path(sys.executable).parent / "mmtlite")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An environment with its landing folders and the codes loaded."""
    home = tmp_path / "mmt"
    db = mmtlite.open(home)
    db.init()
    assert db.load(codes_file(tmp_path)).clean
    return home


def inbound(home: Path, category: str) -> Path:
    return Place(home, "build").inbound(category)


def good_noncomm(home: Path) -> Path:
    return make(inbound(home, "NONCOMM"), "NONCOMM", 1, [("MSN000001", "NC01", "20240101", "ADD")])


def cli_run(home: Path, *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [MMTLITE, "--home", str(home), *args], capture_output=True, timeout=60, check=False
    )
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


def test_a_name_that_is_not_utf8_is_passed_over_and_the_rest_loads(home: Path) -> None:
    good = good_noncomm(home)
    odd = os.fsencode(inbound(home, "NONCOMM")) + b"/NONCOMM_BUILD_\xff.csv"
    with open(odd, "wb") as file:
        file.write(good.read_bytes())
    code, said = cli_run(home, "ingest", "-q")
    assert code == 1, said
    assert "Traceback" not in said and "internal error" not in said
    assert "passed over " in said and "NONCOMM_BUILD_\\xff.csv: its name is not UTF-8" in said
    assert f"loaded {good}" in said
    assert rows_of(Place(home, "build"), "NONCOMM") == [("MSN000001", "NC01", "20240101")]


def test_load_passes_over_a_name_that_is_not_utf8(home: Path) -> None:
    good = good_noncomm(home)
    odd = os.fsdecode(os.fsencode(good.parent) + b"/MMT_BUILD_\xfe.csv")
    result = mmtlite.open(home).load([odd, good])
    assert [(over.why, over.path.endswith("\\xfe.csv")) for over in result.passed_over] == [
        ("its name is not UTF-8: rename it", True)
    ]
    assert [file.outcome for file in result.files] == [LOADED]
    assert not result.clean


def test_folders_dangling_links_and_fifos_are_named_and_passed_over(home: Path) -> None:
    good = good_noncomm(home)
    folder = inbound(home, "NONCOMM")
    (folder / "old").mkdir()
    (folder / "NONCOMM_BUILD_20240101000009.csv").symlink_to(folder / "gone.csv")
    os.mkfifo(folder / "NONCOMM_BUILD_20240101000008.csv")
    code, said = cli_run(home, "ingest", "-q")  # a FIFO read would never return
    assert code == 1, said
    assert f"passed over {folder / 'old'}: a folder" in said
    assert f"passed over {folder / 'NONCOMM_BUILD_20240101000009.csv'}: a link to nothing" in said
    assert f"passed over {folder / 'NONCOMM_BUILD_20240101000008.csv'}: a FIFO (pipe)" in said
    assert f"loaded {good}" in said


def test_load_never_blocks_on_a_fifo_nor_reads_a_device_forever(home: Path) -> None:
    fifo = home / "MMT_BUILD_20240101000000.csv"
    os.mkfifo(fifo)
    code, said = cli_run(home, "load", "-q", str(fifo), "/dev/zero")
    assert code == 1, said
    assert "it is a FIFO (pipe), not a regular file" in said
    assert "it is a device or a socket, not a regular file" in said


def test_a_file_over_the_size_limit_is_refused_unread(home: Path) -> None:
    path = inbound(home, "MMT") / "MMT_BUILD_20240101000000.csv"
    rows = [meter(f"MSN{n:06d}", site=f"S{n}") for n in range(10)]
    path.write_bytes(write("MMT", "build", 1, "20240101000000", rows))
    result = mmtlite.open(home).ingest(max_size=100)
    [file] = result.files
    assert (file.outcome, file.code) == (REFUSED, C_UNREADABLE)
    size = path.stat().st_size
    assert f"the file is {size:,} bytes, more than the limit of 100 (--max-size)" in file.message
    loaded = CliRunner().invoke(cli, ["--home", str(home), "ingest", "-q", "--max-size", "1"])
    assert loaded.exit_code == 0, loaded.output


@pytest.mark.slow
def test_a_2gb_sparse_file_costs_no_memory(home: Path) -> None:
    path = inbound(home, "MMT") / "MMT_BUILD_20240101000000.csv"
    with open(path, "wb") as file:
        file.truncate(2 << 30)
    run = peak_rss([MMTLITE, "--home", str(home), "ingest", "-q"])
    said = run.stdout + run.stderr
    assert run.returncode == 1 and "more than the limit of 1,073,741,824 (--max-size)" in said
    peak_mb = run.rss / 2**20
    assert peak_mb < 300, peak_mb


def test_a_file_stamped_in_the_future_loads_with_a_warning(home: Path) -> None:
    rows = [("MSN000001", "NC01", "20240101", "ADD")]
    folder = inbound(home, "NONCOMM")
    path = folder / "NONCOMM_BUILD_20991231235959.csv"
    path.write_bytes(write("NONCOMM", "build", 1, "20991231235959", rows))
    result = mmtlite.open(home).ingest()
    [file] = result.files
    assert file.outcome == LOADED and result.clean
    assert "warning: stamped 2099-12-31 23:59:59, in the future: check the sender's clock" in (
        file.message
    )


def test_ingest_publishes_an_outbound_file_left_hidden_by_a_crash(tmp_path: Path) -> None:
    place = Place(tmp_path / "mmt", "build")
    files = tmp_path / "files"
    files.mkdir()
    in_tranche(place, files, ["MSN000001", "MSN000002"], "T1")
    [written] = list(place.root.glob("dcc/*/dcccand/outbound/DCCCAND_*.csv"))
    hidden = written.with_name(f".{written.name}.tmp")
    written.rename(hidden)  # what a crash between the commit and the rename leaves
    result = CliRunner().invoke(cli, ["--home", str(place.root), "ingest", "-q"])
    assert result.exit_code == 0, result.output
    assert f"published {written} (left hidden by a crash)" in result.output
    assert written.exists() and not hidden.exists()
