"""Converting a big plain file on two cores: the parent reads the first half, a forked child
the second, each into its own spool; the parent adopts the child's spool and merges.

The split is at a 200 record near the middle, so the child starts on a stream boundary in a
state the parent's half can describe exactly (lines before it, whether a block is open). Where
fork is missing, the machine has one core, or the input is small, a zip or a pipe, the caller
converts in one process. A child that fails for any reason makes the caller do the same.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import BinaryIO, Generic, TypeVar

from nem2cdr.reader import Part
from nem2cdr.sources import Source

MIN_SIZE = 4 << 20  # below this, forking costs more than it saves
_SCAN = 1 << 20  # bytes read at a time when looking for the split
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

Result = TypeVar("Result")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def halves(source: Source) -> tuple[Part, Part] | None:
    """Two parts of ``source`` split at a 200 record near the middle, or None."""
    if not isinstance(source, (str, os.PathLike)) or os.fspath(source) == "-":
        return None
    if not hasattr(os, "fork") or cores() < 2:
        return None
    try:
        size = os.path.getsize(source)
        if size < MIN_SIZE or not os.path.isfile(source):
            return None
        with open(source, "rb") as file:
            if file.read(4) in _ZIP_MAGIC:
                return None
            split = _next_200(file, size // 2)
            if split is None:
                return None
            lines_before, in_block, version = _state_before(file, split)
    except OSError:
        return None  # the one-process path reports it properly
    return (
        Part(0, split, 0, False, None, last=False),
        Part(split, size, lines_before, in_block, version, last=True),
    )


def _next_200(file: BinaryIO, start: int) -> int | None:
    """The offset of the first line at or after ``start`` that is a 200 record."""
    file.seek(start)
    position, carry = start, b""
    while True:
        chunk = file.read(_SCAN)
        if not chunk:
            return None
        data = carry + chunk
        found = data.find(b"\n200,")
        if found >= 0:
            return position - len(carry) + found + 1
        carry = data[-4:]
        position += len(chunk)


def _state_before(file: BinaryIO, split: int) -> tuple[int, bool, str | None]:
    """Lines before ``split``, and whether a block is open there (and which version)."""
    file.seek(0)
    lines, left, last_record, carry = 0, split, b"", b"\n"  # as if a line ended before byte 0
    while left > 0:
        chunk = file.read(min(_SCAN, left))
        if not chunk:
            break
        left -= len(chunk)
        lines += chunk.count(b"\n")
        # The last 100 or 900 before the split decides the state there.
        data = carry + chunk
        tail = max(data.rfind(b"\n100,"), data.rfind(b"\n900"))
        if tail >= 0:
            last_record = data[tail + 1 : tail + 16]
        carry = data[-16:]
    if last_record.startswith(b"900"):
        return lines, False, None
    version = "NEM13" if last_record[4:9].upper() == b"NEM13" else "NEM12"
    return lines, True, version


class Forked(Generic[Result]):
    """``work()`` run in a forked child; ``join()`` gives its result, or None if it failed."""

    def __init__(self, work: Callable[[], Result]) -> None:
        read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the child: never returns
            os.close(read_end)
            status = 1
            try:
                data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as out:
                    out.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._read_end = read_end

    def join(self) -> Result | None:
        with os.fdopen(self._read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        if status != 0 or not data:
            return None
        result: Result = pickle.loads(data)
        return result

    def kill(self) -> None:
        try:
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
