"""One writer per environment: an exclusive ``flock`` on ``<home>/mmt_<env>.lock``.

The operating system drops the lock when its holder dies, however it dies (SIGKILL included), so
a crashed load never leaves a stale lock behind. Readers (status, log, reports) take no lock:
SQLite's WAL lets them read while the writer writes.
"""

from __future__ import annotations

import fcntl
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from mmtlite.db import SchemaError, usable_home
from mmtlite.errors import MmtliteError


class Busy(MmtliteError):
    """Another process holds the writer lock of this environment."""


class WriterLock:
    """``with WriterLock(path, "load"):`` holds the lock, or raises ``Busy`` at once (after
    ``wait`` seconds of trying, when given: for short writers that queue behind each other)."""

    def __init__(self, path: Path, command: str, *, wait: float = 0.0) -> None:
        self.path = path
        self.command = command
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> WriterLock:
        usable_home(self.path.parent)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SchemaError(f"cannot open the lock {self.path}: {exc.strerror or exc}") from None
        if not _locked(fd, time.monotonic() + self.wait):
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise Busy(
                f"{self.path.name}: another mmtlite writer holds this environment ({holder}); "
                "try again when it has finished"
            )
        # Who holds it, for the message the next writer sees (informative only: the flock is
        # the lock).
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{self.command}, pid {os.getpid()}, since {now}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _locked(fd: int, deadline: float) -> bool:
    """Take the ``flock`` on ``fd``, trying until ``deadline`` (``time.monotonic``)."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
