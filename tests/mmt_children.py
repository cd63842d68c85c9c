"""Child processes for the mmtlite crash and lock tests: a loader (or a bare lock holder) run
as ``sys.executable -c`` with the project importable, watched from the test's own process, and
the master-list rows and files they load."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType

import pytest

from mmtlite.activity import STARTED
from mmtlite.fileformat import file_name, write
from mmtlite.paths import Place

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 60.0  # seconds any wait may take before the test fails instead of hanging

# The child: ``mode home env signals files...``. ``hold`` takes the writer lock and waits;
# ``load`` loads the files; ``pause-applied`` and ``pause-committed`` load them but wait for
# ``<signals>/go`` (after touching ``<signals>/ready``) at that point of the loader.
CHILD = """
import sys, time
from pathlib import Path
from mmtlite import activity, loader
from mmtlite.lock import WriterLock
from mmtlite.paths import Place

mode, home, env, signals, *files = sys.argv[1:]
ready, go = Path(signals, "ready"), Path(signals, "go")


def wait_for_go():
    ready.touch()
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)


def waiting_after(function):
    def waiting(*args, **kwargs):
        result = function(*args, **kwargs)
        wait_for_go()
        return result
    return waiting


def waiting_before(function):
    def waiting(*args, **kwargs):
        wait_for_go()
        return function(*args, **kwargs)
    return waiting


place = Place(Path(home), env)
if mode == "hold":
    with WriterLock(place.lock, "load"):
        wait_for_go()
    sys.exit(0)
if mode == "pause-applied":  # every row written, inside the file's transaction
    loader.apply = waiting_after(loader.apply)
elif mode == "pause-committed":  # the file committed, its run not ended
    activity.end_run = waiting_before(activity.end_run)
else:
    assert mode == "load", mode
loader.load(place, files)
"""


class Child:
    """``with Child(...) as child:`` the child process above; killed (by its pid) if still
    running when the block ends."""

    def __init__(
        self, signals: Path, mode: str, home: Path, *files: Path, env: str = "build"
    ) -> None:
        signals.mkdir(parents=True, exist_ok=True)
        self.ready = signals / "ready"
        self.go = signals / "go"
        paths = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, str(home), env, str(signals), *map(str, files)],
            env={**os.environ, "PYTHONPATH": paths},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def __enter__(self) -> Child:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stderr(self) -> str:
        """What a finished child said (its traceback, when it failed)."""
        assert not self.running and self.process.stderr is not None
        return self.process.stderr.read().decode(errors="replace")

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        """Poll ``condition`` (about every millisecond) while the child runs."""
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            if not self.running:
                pytest.fail(f"the child ended before {what}: {self.stderr()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {TIMEOUT} s")
            time.sleep(0.001)

    def wait_ready(self) -> None:
        self.wait_until(self.ready.exists, "it was ready")

    def release(self) -> None:
        """Let a waiting child go on, and see it end well."""
        self.go.touch()
        code = self.process.wait(TIMEOUT)
        assert code == 0, self.stderr()

    def kill(self) -> None:
        """SIGKILL, while it still runs (a kill after it ended would prove nothing)."""
        assert self.running, f"the child ended before the kill: {self.stderr()}"
        os.kill(self.pid, signal.SIGKILL)
        assert self.process.wait(TIMEOUT) == -signal.SIGKILL


def meter_rows(first: int, count: int, changed_below: int = 0) -> Iterator[tuple[str, ...]]:
    """Valid ``ALL`` rows of the master list for meters ``first``..; the dmc_id of meters
    numbered below ``changed_below`` differs from ``meter_rows``' default (a changed row)."""
    for number in range(first, first + count):
        yield (
            f"M{number:09d}",
            f"S{number // 3:08d}",  # sites of three meters
            f"{1_000_000_000_000 + number}",
            "EG"[number % 2],
            "DMC2" if number < changed_below else "DMC1",
            f"20{number % 24:02d}0{1 + number % 9}1{number % 9}",
            "ALL",
        )


def mmt_file(
    folder: Path,
    sequence: int,
    created: str,
    rows: Iterable[tuple[str, ...]],
    env: str = "build",
) -> Path:
    """A master list file of ``rows`` named as ``created`` says."""
    path = folder / file_name("MMT", env, created)
    path.write_bytes(write("MMT", env, sequence, created, rows))
    return path


class Watch:
    """This process's view of the child's database: a reader and a write-lock probe."""

    def __init__(self, place: Place) -> None:
        self.reader = sqlite3.connect(place.database, isolation_level=None, timeout=5.0)
        self.probe = sqlite3.connect(place.database, isolation_level=None, timeout=0.0)
        self.wal = Path(f"{place.database}-wal")

    def close(self) -> None:
        self.reader.close()
        self.probe.close()

    def started(self) -> bool:
        """The child's file entry is committed as ``started``: it reads and parses the file."""
        # fetchall: a statement stepped to its end holds no read transaction open.
        found = self.reader.execute("SELECT 1 FROM loads WHERE outcome = ?", (STARTED,))
        return bool(found.fetchall())

    def writing(self) -> bool:
        """Someone holds the database's write lock (BEGIN IMMEDIATE fails at once)."""
        try:
            self.probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                return True
            raise
        self.probe.execute("ROLLBACK")
        return False

    def wal_size(self) -> int:
        try:
            return self.wal.stat().st_size
        except FileNotFoundError:
            return 0


def interrupted_when_ready(
    command: list[str],
    ready: Path,
    env: dict[str, str],
    look: Callable[[], None] = lambda: None,
) -> tuple[int, str]:
    """Run ``command``, send it SIGINT (Ctrl-C) once it has made the file ``ready`` (and
    ``look`` has looked at what it is doing); its exit code and stderr. Killed, not left
    behind, if it never gets there."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ready.exists(), child.communicate()[1].decode()
        look()
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, stderr.decode()
