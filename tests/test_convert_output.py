"""Where ``convert`` writes: through a symlink, into a FIFO or a device (as Unix tools do,
never replacing them), and ``--all-pages`` that cannot write a page (a full disk)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import BinaryIO

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr import conversion
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import nem12, row_300

DATA = nem12(
    "200,6102000001,E1,1,E1,N1,METER1,kWh,30,",
    *(row_300(f"202401{day:02d}") for day in range(1, 8)),
)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(DATA)
    return path


def test_o_writes_through_a_symlink_and_keeps_it(source: Path, tmp_path: Path) -> None:
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_bytes(b"old")
    link.symlink_to(real.name)
    assert nem2cdr.convert(source, link).ok
    assert link.is_symlink() and os.readlink(link) == real.name
    assert nem2cdr.check(real) == []


def test_o_writes_into_a_fifo_and_keeps_it(source: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    done = CliRunner().invoke(cli, ["convert", "-q", str(source), "-o", str(fifo)])
    reader.join(timeout=30)
    assert done.exit_code == 0
    assert fifo.is_fifo()
    assert nem2cdr.check(received[0]) == []


def test_o_writes_into_a_device(source: Path) -> None:
    done = CliRunner().invoke(cli, ["convert", "-q", str(source), "-o", "/dev/null"])
    assert done.exit_code == 0
    assert Path("/dev/null").is_char_device()


def test_all_pages_on_a_full_disk_removes_its_pages_and_names_the_page(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk fills while the third page is written: no space, as a full file system says.
    real_write = conversion._PageWriter.write
    calls = 0

    def filling(
        self: conversion._PageWriter, stream: BinaryIO, number: int, jsonl: bool = False
    ) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            stream.write(b"half a page")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(self, stream, number, jsonl)

    monkeypatch.setattr(conversion._PageWriter, "write", filling)
    folder = tmp_path / "pages"
    result = CliRunner().invoke(
        cli, ["convert", "-q", str(source), "--all-pages", str(folder), "--page-size", "2"]
    )
    assert result.exit_code == 1
    page = folder / "page-0003.json"
    assert result.stderr == f"nem2cdr convert: cannot write {page}: No space left on device\n"
    assert not folder.exists()
    assert [path.name for path in tmp_path.iterdir()] == ["in.csv"]  # no staging folder left
