"""Setting a refused file aside (docs/mmtlite.md, "Loading: exactly once"): ``mmtlite set-aside``
moves it into ``rejected/`` beside its inbound folder, logs the move once, and ``ingest`` stops
trying it (and stops adding a log entry and its errors every run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import mmtlite
from mmtlite.activity import REFUSED
from mmtlite.paths import Place
from mmtlite.set_aside import SET_ASIDE
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_helpers import make, reading


@pytest.fixture
def refused(tmp_path: Path) -> Path:
    """A NONCOMM file in the inbound folder that every ingest refuses (sequence 2 without 1: a
    gap), after one ingest refused it."""
    place = Place(tmp_path / "mmt", "build")
    mmtlite.open(place.root).init()
    path = make(place.inbound("NONCOMM"), "NONCOMM", 2, [("MSN000001", "NC01", "20240101", "ADD")])
    assert [file.outcome for file in mmtlite.open(place.root).ingest().files] == [REFUSED]
    return path


def counts(home: Path) -> tuple[int, int]:
    with reading(Place(home, "build")) as connection:
        loads = connection.execute("SELECT count(*) FROM loads").fetchone()[0]
        errors = connection.execute("SELECT count(*) FROM errors").fetchone()[0]
    return int(loads), int(errors)


def test_a_set_aside_file_is_moved_logged_once_and_never_tried_again(refused: Path) -> None:
    home = refused.parents[4]
    result = CliRunner().invoke(cli, ["--home", str(home), "set-aside", str(refused)])
    assert result.exit_code == 0, result.output
    target = refused.parent.parent / "rejected" / refused.name
    assert result.output == f"set aside {refused}: moved to {target}\n"
    assert target.exists() and not refused.exists()
    before = counts(home)
    for _ in range(2):
        again = mmtlite.open(home).ingest()
        assert again.files == [] and again.clean
    assert counts(home) == before
    [entry] = [e for e in mmtlite.open(home).log() if e.outcome == SET_ASIDE]
    assert entry.file == str(refused) and str(target) in entry.message


def test_only_a_file_of_an_inbound_folder_can_be_set_aside(refused: Path, tmp_path: Path) -> None:
    home = refused.parents[4]
    stray = tmp_path / "NONCOMM_BUILD_20240101000002.csv"
    stray.write_bytes(refused.read_bytes())
    result = CliRunner().invoke(cli, ["--home", str(home), "set-aside", str(stray)])
    assert result.exit_code == 1
    assert "is not a file in an inbound folder of build" in result.output
    assert stray.exists()


def test_a_name_taken_in_rejected_is_refused_and_nothing_moves(refused: Path) -> None:
    home = refused.parents[4]
    (refused.parent.parent / "rejected").mkdir()
    (refused.parent.parent / "rejected" / refused.name).write_text("an older one\n")
    with pytest.raises(mmtlite.SetAsideError, match="exists already"):
        mmtlite.open(home).set_aside(refused)
    assert refused.exists()
