"""The one atomic writer: whole files or none, never a temporary left behind."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nem2cdr.atomic import atomic_write, staged_folder, temporary_for, write_atomically


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


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomically(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]


def test_an_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "private.json"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_atomically(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the open for writing works
    try:
        write_atomically(fifo, b"through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


def test_dev_null_stays_a_device() -> None:
    write_atomically(os.devnull, b"gone")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.parametrize("name", ["", "{tmp}/missing-folder-is-a-file/out.json", "{tmp}"])
def test_errors_name_the_users_path_never_the_temporary(tmp_path: Path, name: str) -> None:
    (tmp_path / "missing-folder-is-a-file").write_bytes(b"a file, not a folder")
    path = name.format(tmp=tmp_path)
    with pytest.raises(OSError) as raised:
        write_atomically(path, b"x")
    assert raised.value.filename in (path, "''")
    assert ".partial" not in str(raised.value)
    assert sorted(os.listdir(tmp_path)) == ["missing-folder-is-a-file"]


def test_a_name_whose_temporary_is_too_long_is_named_in_the_error(tmp_path: Path) -> None:
    """250 bytes is a legal name, but its temporary's (dot, process id, .partial) is not."""
    path = tmp_path / ("x" * 250)
    with pytest.raises(OSError) as raised:
        write_atomically(path, b"x")
    assert raised.value.filename == str(path)
    assert ".partial" not in str(raised.value)
    assert os.listdir(tmp_path) == []


def test_a_staged_folder_adds_its_files_only_when_complete(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "page-1.json").write_bytes(b"earlier run")
    with pytest.raises(KeyboardInterrupt), staged_folder(folder) as staging:
        (staging / "page-1.json").write_bytes(b"new")
        (staging / "page-2.json").write_bytes(b"new")
        raise KeyboardInterrupt
    assert sorted(os.listdir(folder)) == ["page-1.json"]
    assert (folder / "page-1.json").read_bytes() == b"earlier run"
    assert os.listdir(tmp_path) == ["pages"]  # no staging folder left
    with staged_folder(folder) as staging:
        (staging / "page-1.json").write_bytes(b"new")
        (staging / "page-2.json").write_bytes(b"new")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {
        "page-1.json": b"new",
        "page-2.json": b"new",
    }
    assert os.listdir(tmp_path) == ["pages"]


def test_dev_stdout_into_a_pipe_is_written_into_the_pipe() -> None:
    """/dev/stdout links to /proc's ``pipe:[N]``, a name no folder holds: write it directly."""
    code = "from nem2cdr.atomic import write_atomically; write_atomically('/dev/stdout', b'piped')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"piped", b"")
