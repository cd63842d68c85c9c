"""One writer per environment (docs/mmtlite.md, "Loading: exactly once"): while another process
holds the writer lock (a bare holder, or a real load of a big file) a second ``mmtlite load`` exits
3 at once with a clear message and changes nothing; status, log and errors read during a load's
transaction; the lock is per environment; it is free again once its holder ends, however it ends.

The other writer is a child process (``tests.test_mmt_crash.Child``); the commands run through
click's ``CliRunner`` in this process. Real SQLite in temporary folders.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mmtlite import loader
from mmtlite.activity import LOADED, REFUSED, STARTED
from mmtlite.lock import Busy, WriterLock
from mmtlite.paths import Place
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_children import Child, Watch, meter_rows, mmt_file
from tests.mmt_helpers import digest, reading

pytestmark = pytest.mark.slow  # every test here starts and kills processes

BUSY = 3
AT_ONCE = 2.0  # seconds: loosely "at once" (a writer that waited would take as long as the load)
FIRST_METERS = 1_000
BIG_METERS = 200_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MMT sequence 2, a complete list of 200,000 meters (the first file's 1,000 among them)."""
    return mmt_file(
        tmp_path_factory.mktemp("mmt-lock"), 2, "20240102000000", meter_rows(0, BIG_METERS)
    )


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return Place(tmp_path / "home", "build")


@pytest.fixture
def first(tmp_path: Path, place: Place) -> Path:
    """MMT sequence 1 (1,000 meters), loaded: the state a busy load must leave alone."""
    path = mmt_file(tmp_path, 1, "20240101000000", meter_rows(0, FIRST_METERS))
    [result] = loader.load(place, [path]).files
    assert result.outcome == LOADED, result.message
    return path


def added_file(folder: Path, sequence: int, count: int = 10) -> Path:
    """An ADD file of ``count`` meters no other file has."""
    rows = ((*row[:-1], "ADD") for row in meter_rows(900_000, count))
    return mmt_file(folder, sequence, f"2024010300000{sequence}", rows)


def mmtlite(place: Place, *arguments: str) -> tuple[Result, float]:
    """``mmtlite --home <home> --env <env> ARGUMENTS`` and how long it took."""
    started = time.monotonic()
    result = CliRunner().invoke(
        cli, ["--home", str(place.root), "--env", place.env, *arguments], catch_exceptions=False
    )
    return result, time.monotonic() - started


def state(place: Place) -> tuple[object, ...]:
    """Everything a load could change: the lists and ledger, the log, the errors."""
    with reading(place) as connection:
        tables = tuple(
            connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("ledger", "runs", "loads", "errors")
        )
    return digest(place), tables


def assert_busy(place: Place, file: Path, holder: Child) -> None:
    """A load of ``file`` exits 3 at once, says who holds the lock, and changes nothing."""
    before = state(place)
    result, seconds = mmtlite(place, "load", str(file))
    assert result.exit_code == BUSY, result.output
    assert seconds < AT_ONCE
    message = result.stderr
    assert message.startswith(f"mmtlite: busy: mmt_{place.env}.lock: another mmtlite writer")
    assert f"load, pid {holder.pid}" in message and "try again" in message
    assert result.stdout == ""
    assert state(place) == before
    assert holder.running  # so the lock was held all along


def test_a_second_load_exits_3_at_once_while_a_process_holds_the_lock(
    tmp_path: Path, place: Place, first: Path
) -> None:
    second = added_file(tmp_path, 2)
    with Child(tmp_path / "signals", "hold", place.root) as holder:
        holder.wait_ready()
        assert_busy(place, second, holder)
        # The library says it the same way, for load and ingest.
        with pytest.raises(Busy, match="another mmtlite writer"):
            loader.load(place, [second])
        with pytest.raises(Busy, match="another mmtlite writer"):
            loader.ingest(place)
        holder.release()  # the holder ends normally
    result, _ = mmtlite(place, "load", "--format", "json", str(second))
    assert result.exit_code == 0, result.output
    [loaded] = json.loads(result.stdout)["files"]
    assert (loaded["outcome"], loaded["added"]) == (LOADED, 10)


def test_a_second_load_exits_3_during_a_real_load_and_changes_nothing(
    tmp_path: Path, place: Place, first: Path, big: Path
) -> None:
    third = added_file(tmp_path, 3)
    # Stopped inside its transaction, every row written: the worst time to be disturbed.
    with Child(tmp_path / "paused", "pause-applied", place.root, big) as loading:
        loading.wait_ready()
        assert_busy(place, third, loading)
        loading.release()
    # A load that is not stopped anywhere: the second one comes while it reads or writes.
    place_two = Place(tmp_path / "home-two", "build")
    assert loader.load(place_two, [first]).files[0].outcome == LOADED
    watch = Watch(place_two)
    try:
        with Child(tmp_path / "running", "load", place_two.root, big) as loading:
            loading.wait_until(watch.started, "its file entry was committed")
            result, seconds = mmtlite(place_two, "load", str(third))
            assert result.exit_code == BUSY, result.output
            assert seconds < AT_ONCE and "busy" in result.stderr
            assert loading.running  # so it came while the load held the lock
            loading.release()  # (nothing to release: it waits for the load to end well)
    finally:
        watch.close()
    # Both big loads went through untouched; the busy file was never logged.
    for home in (place, place_two):
        with reading(home) as connection:
            logged = connection.execute("SELECT file, outcome FROM loads ORDER BY load_id")
            assert logged.fetchall() == [(str(first), LOADED), (str(big), LOADED)]
        result, _ = mmtlite(home, "load", str(third))
        assert result.exit_code == 0, result.output


def test_reports_read_while_a_load_is_in_its_transaction(
    tmp_path: Path, place: Place, first: Path, big: Path
) -> None:
    bad = mmt_file(tmp_path, 2, "20240101120000", meter_rows(0, 5))
    bad.write_bytes(bad.read_bytes().replace(b"TRL|5", b"TRL|6"))  # refused: MMT-C013
    assert loader.load(place, [bad]).files[0].outcome == REFUSED
    watch = Watch(place)
    try:
        with Child(tmp_path / "signals", "pause-applied", place.root, big) as loading:
            loading.wait_ready()
            status, status_seconds = mmtlite(place, "status", "--format", "json")
            log, log_seconds = mmtlite(place, "log", "--format", "json")
            errors, errors_seconds = mmtlite(place, "errors", "--format", "json")
            assert watch.writing() and loading.running  # the transaction was open throughout
            loading.release()
    finally:
        watch.close()
    assert max(status_seconds, log_seconds, errors_seconds) < AT_ONCE
    for result in (status, log, errors):
        assert result.exit_code == 0, result.output
    # What was committed before the transaction: not a row of the load in progress.
    # (no EPCL loaded: every meter is excluded)
    assert json.loads(status.stdout) == {
        "env": "build",
        "meters": FIRST_METERS,
        "by_status": {"0": 0, "0S": 0, "0Z": FIRST_METERS, "1": 0, "1R": 0, "1a": 0, "2": 0},
    }
    entries = [(entry["file"], entry["outcome"]) for entry in json.loads(log.stdout)]
    assert entries == [(str(big), STARTED), (str(bad), REFUSED), (str(first), LOADED)]
    [error] = json.loads(errors.stdout)
    assert (error["file"], error["code"], error["line"]) == (str(bad), "MMT-C013", 7)
    # And once it committed, everything of it.
    status, _ = mmtlite(place, "status", "--format", "json")
    assert json.loads(status.stdout)["meters"] == BIG_METERS
    log, _ = mmtlite(place, "log", "--format", "json", "--limit", "1")
    assert [(entry["file"], entry["outcome"]) for entry in json.loads(log.stdout)] == [
        (str(big), LOADED)
    ]


def test_the_writer_lock_is_per_environment(tmp_path: Path, place: Place) -> None:
    sogl = Place(place.root, "sogl")
    sogl_file = mmt_file(tmp_path, 1, "20240101000000", meter_rows(0, 100), env="sogl")
    build_file = mmt_file(tmp_path, 1, "20240101000000", meter_rows(0, 100))
    with Child(tmp_path / "signals", "hold", place.root) as holder:
        holder.wait_ready()
        result, _ = mmtlite(sogl, "load", "--format", "json", str(sogl_file))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["files"][0]["outcome"] == LOADED
        assert_busy(place, build_file, holder)
        holder.release()
    with reading(sogl) as connection:
        assert connection.execute("SELECT count(*) FROM list_mmt").fetchall() == [(100,)]
    assert state(place)[1] == ([], [], [], [])  # build: nothing loaded, nothing logged


def test_the_lock_is_free_once_its_holder_is_killed(
    tmp_path: Path, place: Place, first: Path, big: Path
) -> None:
    second = added_file(tmp_path, 2)
    with Child(tmp_path / "holder", "hold", place.root) as holder:
        holder.wait_ready()
        assert_busy(place, second, holder)
        holder.kill()
    with WriterLock(place.lock, "test"):
        pass
    # A load killed in its transaction frees the lock too; the next load says what it found.
    with Child(tmp_path / "loading", "pause-applied", place.root, big) as loading:
        loading.wait_ready()
        assert_busy(place, second, loading)
        loading.kill()
    result, _ = mmtlite(place, "load", str(big))
    assert result.exit_code == 0, result.output
    assert "aborted" in result.stdout and "nothing of it was applied" in result.stdout
    result, _ = mmtlite(place, "load", str(added_file(tmp_path, 3)))
    assert result.exit_code == 0, result.output
