"""The serve store: read once, reused without reading, appended files added, the rest rebuilt;
convert's duplicate rule across files; never overwriting a file that is not a store."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

import nem2cdr
from nem2cdr.serving import encoded_records
from nem2cdr.store import Selection, Store, StoreError, input_files, load
from tests.helpers import STREAM_30, day_values, nem12, row_300

WIDE = Selection(None, date(2000, 1, 1), date(2099, 12, 31), False)


def store_bodies(path: Path) -> list[bytes]:
    """Every record the store holds, in order, as convert's encoder writes it."""
    with Store(path) as store:
        records = store.records(WIDE, 0, 1 << 30)
        return list(encoded_records(records, nem2cdr.ConvertOptions(interval_reads="FULL")))


def convert_bodies(source: Path) -> list[bytes]:
    out = io.BytesIO()
    nem2cdr.convert(source, out, nem2cdr.ConvertOptions(interval_reads="FULL"), jsonl=True)
    return out.getvalue().splitlines()


def day_file(path: Path, value: str, update: str = "20240102030000") -> Path:
    """One NMI, 2024-01-01 and -02, every interval ``value``, with this UpdateDateTime."""
    tail = f"A,,,{update},20240102040000"
    rows = [row_300(f"2024010{d}", day_values(48, value), tail) for d in (1, 2)]
    path.write_bytes(nem12(STREAM_30, *rows))
    return path


def test_a_store_holds_what_convert_converts(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    nem2cdr.generate(source, nmis=3, days=20, interval=15)
    result = load([source], tmp_path / "store.sqlite")
    assert result.action == "built"
    assert store_bodies(tmp_path / "store.sqlite") == convert_bodies(source)
    assert result.records == len(convert_bodies(source))


def test_a_restart_with_the_same_files_reads_nothing(tmp_path: Path) -> None:
    source = day_file(tmp_path / "in.csv", "1.5")
    store = tmp_path / "store.sqlite"
    load([source], store)
    before = store_bodies(store)
    # Same size and modification time, other values: only a store that read nothing still
    # holds the old ones.
    status = source.stat()
    day_file(source, "2.5")
    os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns))
    again = load([source], store)
    assert (again.action, again.read) == ("reused", [])
    assert store_bodies(store) == before


def test_a_changed_file_rebuilds_the_store(tmp_path: Path) -> None:
    source = day_file(tmp_path / "in.csv", "1.5")
    store = tmp_path / "store.sqlite"
    load([source], store)
    day_file(source, "2.5")
    os.utime(source, ns=(1, 1))  # a different mtime, even on a coarse clock
    again = load([source], store)
    assert again.action == "built"
    assert store_bodies(store) == convert_bodies(source)


def test_an_appended_file_is_added_and_equals_a_fresh_build(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    nem2cdr.generate(first, nmis=2, days=5, seed=1)
    nem2cdr.generate(second, nmis=2, days=5, seed=2, start=date(2024, 1, 3))
    grown, fresh = tmp_path / "grown.sqlite", tmp_path / "fresh.sqlite"
    load([first], grown)
    added = load([first, second], grown)
    assert (added.action, added.read) == ("added", [os.path.abspath(second)])
    assert load([first, second], fresh).action == "built"
    assert store_bodies(grown) == store_bodies(fresh)
    # Files in another order are another store: it is rebuilt.
    assert load([second, first], grown).action == "built"


def test_a_store_open_in_a_server_never_changes_under_it(tmp_path: Path) -> None:
    # A second server adding files to the store a first one answers from: the first keeps
    # the records it started with (its cached pages and ids agree with its fresh pages).
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    nem2cdr.generate(first, nmis=2, days=5, seed=1)
    nem2cdr.generate(second, nmis=2, days=5, seed=2, start=date(2024, 1, 3))
    path = tmp_path / "store.sqlite"
    load([first], path)
    with Store(path) as serving:
        before = serving.total_records()
        added = load([first, second], path)
        assert added.action == "added" and added.records > before
        assert serving.total_records() == before
    with Store(path) as restarted:
        assert restarted.total_records() == added.records


def test_across_files_the_later_update_wins_then_the_later_file(tmp_path: Path) -> None:
    early = day_file(tmp_path / "early.csv", "1.5", update="20240105000000")
    late = day_file(tmp_path / "late.csv", "2.5", update="20240101000000")
    store = tmp_path / "store.sqlite"
    load([early, late], store)
    assert all(b'"aggregateValue":72' in body for body in store_bodies(store))
    tie = day_file(tmp_path / "tie.csv", "3.5", update="20240105000000")
    load([early, late, tie], store)  # added: the same UpdateDateTime as early's, given later
    assert all(b'"aggregateValue":168' in body for body in store_bodies(store))


def test_duplicates_in_one_file_resolve_as_convert_resolves_them(tmp_path: Path) -> None:
    source = tmp_path / "twice.csv"
    rows = [row_300("20240101", day_values(48, v)) for v in ("1.5", "2.5", "0.5")]
    source.write_bytes(nem12(STREAM_30, *rows))
    load([source], tmp_path / "store.sqlite")
    assert store_bodies(tmp_path / "store.sqlite") == convert_bodies(source)


def test_folders_give_their_csv_and_zip_files_in_name_order_without_hidden_ones(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    names = ("b.csv", "sub/a.CSV", ".skip.csv", ".hidden/c.csv", "a.zip", "README.md")
    for name in names:
        (folder / name).write_bytes(b"")
    assert [p.relative_to(folder).as_posix() for p in input_files([folder])] == [
        "a.zip",
        "b.csv",
        "sub/a.CSV",
    ]
    assert input_files([folder / "README.md"]) == [folder / "README.md"]  # named: read
    with pytest.raises(StoreError, match="no such file or folder"):
        input_files([tmp_path / "missing"])


def test_zips_and_folders_load_like_their_files(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    nem2cdr.generate(source, nmis=2, days=4)
    folder = tmp_path / "folder"
    folder.mkdir()
    with zipfile.ZipFile(folder / "in.zip", "w") as archive:
        archive.write(source, "in.csv")
    load([folder], tmp_path / "store.sqlite")
    assert store_bodies(tmp_path / "store.sqlite") == convert_bodies(source)


def test_a_file_with_errors_adds_its_good_records_and_reports_them(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(nem12(STREAM_30, row_300("20240101"), row_300("20241301")))
    result = load([source], tmp_path / "store.sqlite")
    assert [d.code for d in result.diagnostics.errors] == ["NEM12-E010"]
    assert result.records == 1


def test_a_file_that_is_not_a_store_is_left_alone(tmp_path: Path) -> None:
    source = day_file(tmp_path / "in.csv", "1.5")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE precious (x)")
    connection.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="not a nem2cdr store"):
        load([source], other)
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, long enough to have a header " * 4)
    with pytest.raises(StoreError, match="not a nem2cdr store"):
        load([source], text)
    assert other.read_bytes() == before


def test_a_fifo_or_device_at_store_is_refused_at_once(tmp_path: Path) -> None:
    # A FIFO used to hang: SQLite's open waits for a writer that never comes. Run in a child
    # process so that a hang fails the test instead of stopping the suite.
    source = day_file(tmp_path / "in.csv", "1.5")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for store in (fifo, Path("/dev/null")):
        code = f"from nem2cdr.store import load; load([{str(source)!r}], {str(store)!r})"
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
        )
        assert "StoreError" in done.stderr and "not a regular file" in done.stderr
    assert fifo.exists() and Path("/dev/null").is_char_device()


def test_selections_filter_by_nmi_dates_and_min30(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    nem2cdr.generate(source, nmis=3, days=10)
    load([source], tmp_path / "store.sqlite")
    with Store(tmp_path / "store.sqlite") as store:
        nmis = store.nmis()
        one = Selection((nmis[1],), date(2024, 1, 3), date(2024, 1, 5), True)
        records = list(store.records(one, 0, 100))
        assert store.count(one) == len(records) > 0
        assert {r.stream.nmi for r in records if isinstance(r, nem2cdr.IntervalDay)} == {nmis[1]}
        assert {r.date for r in records if isinstance(r, nem2cdr.IntervalDay)} == {
            date(2024, 1, d) for d in (3, 4, 5)
        }
