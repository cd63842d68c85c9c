"""The one atomic writer: whole files or none, never a temporary left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nem2cdr.atomic import atomic_write, temporary_for, write_atomically


def test_the_file_appears_whole_only_when_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out.json"
    with atomic_write(target) as stream:
        stream.write(b"half")
        assert not target.exists()  # nothing visible yet
        assert temporary_for(target).name.startswith(".")
        stream.write(b" and half")
    assert target.read_bytes() == b"half and half"
    assert os.listdir(target.parent) == ["out.json"]


@pytest.mark.parametrize("stop", [RuntimeError("a bug"), KeyboardInterrupt(), OSError(28, "full")])
def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, stop: BaseException
) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    with pytest.raises(type(stop)), atomic_write(target) as stream:
        stream.write(b"new, partly")
        raise stop
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.json"]


def test_exclusive_never_replaces_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write_atomically(target, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        write_atomically(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"


def test_exclusive_loses_to_a_writer_that_finished_first(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(FileExistsError), atomic_write(target, exclusive=True) as stream:
        stream.write(b"slow")
        target.write_bytes(b"fast")  # another writer, meanwhile
    assert target.read_bytes() == b"fast"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_dash_is_standard_output(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    write_atomically("-", b"to stdout\n")
    assert capfdbinary.readouterr().out == b"to stdout\n"
