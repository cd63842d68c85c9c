"""Crash safety (docs/mmtlite.md, "Loading: exactly once"): a child process loading a big master
list is killed with SIGKILL at several points. Whatever the point, the database stays consistent and
holds either all of the file (it had committed) or none of it; the kill frees the writer lock; the
next run marks the orphaned ``started`` entry ``aborted`` and loads the file, and the list then
equals a clean load's, row for row.

Two paths: an ``ALL`` file of 150,000 meters replacing a list of 30,000 (removes, changes and adds:
upserts and a mass delete inside the transaction), and the same meters into an empty list (plain
inserts). The points: fixed delays, and phases watched from this process through a separate
connection: the file's ``started`` entry committed (reading and parsing), the write lock taken (the
data transaction), the WAL growing past a megabyte (the commit writing its pages). Two points need
the child stopped exactly there, so its loader waits on a signal file: after the rows are applied
(inside the transaction) and after the file committed (before the run ends). Waiting is the only
change; the code that runs is the real loader's.

Real SQLite in temporary folders; the child is ``sys.executable -c`` with the project importable.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmtlite import activity, ledger, loader
from mmtlite.activity import ABORTED, LOADED, SKIPPED, STARTED, Counts
from mmtlite.lock import WriterLock
from mmtlite.migrations import connect
from mmtlite.paths import Place
from tests.mmt_children import Child, Watch, meter_rows, mmt_file
from tests.mmt_helpers import digest, reading

pytestmark = pytest.mark.slow  # every test here starts and kills processes


def copy_database(source: Path, place: Place) -> None:
    """A copy of a closed database (WAL checkpointed away) as ``place``'s."""
    assert not Path(f"{source}-wal").exists()
    place.root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, place.database)


@dataclass(frozen=True)
class Loading:
    """One loading path: the database before, the file, and what a clean load gives."""

    before_database: Path  # closed, no WAL: copied into each test's home
    before: str  # digest of the database before the file
    file: Path
    after: str  # digest after a clean load of the file
    counts: Counts  # the clean load's counts


REPLACED_METERS = 30_000
METERS = 150_000
FIRST = 5_000  # meters 0..4,999 of the old list are not in the new one: removed (17%)
CHANGED_BELOW = 15_000  # meters 5,000..14,999 change their dmc_id


def clean_load(before: Path, file: Path, folder: Path) -> tuple[str, Counts]:
    place = Place(folder, "build")
    copy_database(before, place)
    [result] = loader.load(place, [file]).files
    assert result.outcome == LOADED, result.message
    return digest(place), result.counts


@pytest.fixture(scope="module")
def loadings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Loading]:
    """``replace``: 30,000 meters loaded, then 150,000 (125,000 added, 10,000 changed, 5,000
    removed); ``fill``: the 150,000 into an empty list."""
    folder = tmp_path_factory.mktemp("mmt-crash")
    old = mmt_file(folder, 1, "20240101110000", meter_rows(0, REPLACED_METERS))
    new = mmt_file(folder, 2, "20240101120000", meter_rows(FIRST, METERS, CHANGED_BELOW))
    fresh = mmt_file(folder, 1, "20240101130000", meter_rows(FIRST, METERS, CHANGED_BELOW))
    empty = Place(folder / "empty", "build")
    connect(empty.database).close()
    replaced = Place(folder / "replaced", "build")
    [first] = loader.load(replaced, [old]).files
    assert first.outcome == LOADED, first.message
    made: dict[str, Loading] = {}
    for name, place, file in (("replace", replaced, new), ("fill", empty, fresh)):
        after, counts = clean_load(place.database, file, folder / f"clean-{name}")
        made[name] = Loading(place.database, digest(place), file, after, counts)
    assert (made["replace"].counts.added, made["replace"].counts.changed) == (125_000, 10_000)
    assert made["replace"].counts.removed == FIRST
    assert made["fill"].counts.added == METERS
    return made


def delay(seconds: float) -> Callable[[Child, Watch], None]:
    def wait(child: Child, watch: Watch) -> None:
        time.sleep(seconds)

    return wait


def reading_file(child: Child, watch: Watch) -> None:
    child.wait_until(watch.started, "its file entry was committed")


def in_transaction(child: Child, watch: Watch) -> None:
    reading_file(child, watch)
    child.wait_until(watch.writing, "it took the write lock")


def committing(child: Child, watch: Watch) -> None:
    # The small transactions before (run and file entries) write a few pages; the file's
    # commit writes megabytes of them.
    child.wait_until(lambda: watch.wal_size() > 1 << 20, "the WAL grew past a megabyte")


def paused(child: Child, watch: Watch) -> None:
    child.wait_ready()


@dataclass(frozen=True)
class Point:
    name: str
    mode: str  # of the child
    reach: Callable[[Child, Watch], None]
    committed: bool | None  # whether the file has committed at this point; None: either


POINTS = {
    point.name: point
    for point in (
        Point("after 0.05 s", "load", delay(0.05), None),
        Point("after 0.25 s", "load", delay(0.25), None),
        Point("reading", "load", reading_file, False),
        Point("in the transaction", "load", in_transaction, False),
        Point("rows applied, not committed", "pause-applied", paused, False),
        Point("committing", "load", committing, None),
        Point("committed, run not ended", "pause-committed", paused, True),
    )
}


def kill_at(point: Point, loading: Loading, place: Place, signals: Path) -> bool:
    """Start a child loading ``loading.file``, kill it at ``point``; whether it had committed
    (and everything the kill must leave as it was)."""
    copy_database(loading.before_database, place)
    watch = Watch(place)
    try:
        with Child(signals, point.mode, place.root, loading.file) as child:
            point.reach(child, watch)
            child.kill()
    finally:
        watch.close()
    with reading(place) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        files = [entry.name for entry in ledger.entries(connection)]
    committed = loading.file.name in files
    if point.committed is not None:
        assert committed == point.committed, f"killed {point.name}: committed is {committed}"
    # All of the file or none of it: its ledger entry and its rows go together.
    assert digest(place) == (loading.after if committed else loading.before)
    # The kill freed the writer lock.
    with WriterLock(place.lock, "test"):
        pass
    return committed


def rerun(loading: Loading, place: Place, committed: bool) -> None:
    """The next run marks the orphan aborted and loads the file as a clean load does."""
    with reading(place) as connection:
        orphans = activity.entries(connection, outcome=STARTED)
    if committed:
        assert orphans == []  # the file's entry was closed in its own transaction
    else:
        # None when the kill came before the entry was written (the first fixed delay).
        assert [orphan.file for orphan in orphans] in ([], [str(loading.file)])
    result = loader.load(place, [loading.file])  # raises Busy if the lock were still held
    assert [entry.load_id for entry in result.aborted] == [orphan.load_id for orphan in orphans]
    [file] = result.files
    if committed:
        assert file.outcome == SKIPPED, file.message
    else:
        assert (file.outcome, file.counts) == (LOADED, loading.counts), file.message
    with reading(place) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert activity.entries(connection, outcome=STARTED) == []
        marked = {entry.load_id: entry for entry in activity.entries(connection)}
    for orphan in orphans:
        entry = marked[orphan.load_id]
        assert (entry.outcome, entry.file) == (ABORTED, str(loading.file))
        assert entry.ended is not None and "killed or crashed" in entry.message
    assert digest(place) == loading.after


# Replacing a list: every point. Filling an empty one (plain inserts): the points inside the
# transaction.
KILLS = [("replace", point) for point in POINTS] + [
    ("fill", point) for point in ("in the transaction", "rows applied, not committed", "committing")
]


@pytest.mark.parametrize(("path", "point"), KILLS)
def test_a_killed_load_applies_nothing_and_reruns_clean(
    loadings: dict[str, Loading], tmp_path: Path, path: str, point: str
) -> None:
    place = Place(tmp_path / "home", "build")
    loading = loadings[path]
    committed = kill_at(POINTS[point], loading, place, tmp_path / "signals")
    rerun(loading, place, committed)


def test_a_second_kill_before_the_rerun_finishes_is_also_recovered(
    loadings: dict[str, Loading], tmp_path: Path
) -> None:
    """Killed again while it recovers: the second run marks the first's orphan aborted before
    it dies in its own transaction; the third marks the second's and loads the file."""
    place = Place(tmp_path / "home", "build")
    loading = loadings["replace"]
    point = POINTS["rows applied, not committed"]
    assert not kill_at(point, loading, place, tmp_path / "first")
    # The second child marks the first's orphan aborted, then dies in its own transaction.
    with Child(tmp_path / "second", point.mode, place.root, loading.file) as child:
        child.wait_ready()
        child.kill()
    with reading(place) as connection:
        outcomes = [entry.outcome for entry in activity.entries(connection)]
    assert outcomes == [STARTED, ABORTED, LOADED]  # newest first; LOADED: the old list
    assert digest(place) == loading.before
    rerun(loading, place, committed=False)


def test_a_run_killed_after_its_file_committed_is_marked_aborted(
    loadings: dict[str, Loading], tmp_path: Path
) -> None:
    place = Place(tmp_path / "home", "build")
    loading = loadings["replace"]
    assert kill_at(POINTS["committed, run not ended"], loading, place, tmp_path / "signals")
    with reading(place) as connection:
        [(dead, outcome)] = connection.execute("SELECT run_id, outcome FROM runs").fetchall()[1:]
    assert outcome == "running"  # what the kill left
    loader.load(place, [loading.file])
    with reading(place) as connection:
        [(now,)] = connection.execute("SELECT outcome FROM runs WHERE run_id = ?", (dead,))
    assert now == ABORTED
