"""Converting a big plain file on two cores: the parent reads the first half, a forked child
the second, each into its own spool; the parent adopts the child's spool and merges.

Nothing forks unless the caller asks (``workers``): a library call inside a threaded host
application must not fork behind its back. The command line asks for ``"auto"``.

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
from typing import BinaryIO, Generic, Literal, TypeVar

from nem2cdr.reader import Part
from nem2cdr.sources import Source

MIN_SIZE = 4 << 20  # below this, forking costs more than it saves
_SCAN = 1 << 20  # bytes read at a time when looking for the split
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_BOM = b"\xef\xbb\xbf"
_PR_SET_PDEATHSIG = 1  # prctl(2)

Result = TypeVar("Result")
# How many processes a call may use: a number (1: never fork), or "auto" for one per core.
Workers = int | Literal["auto"]


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(workers: Workers) -> int:
    """The processes ``workers`` allows here: "auto" is the cores this process may use."""
    if workers == "auto":
        return cores() if hasattr(os, "fork") else 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number from 1, or 'auto'; not {workers!r}")
    return workers if hasattr(os, "fork") else 1


def halves(source: Source, workers: Workers = 1) -> tuple[Part, Part] | None:
    """Two parts of ``source`` split at a 200 record near the middle, or None (one process)."""
    if not isinstance(source, (str, os.PathLike)) or os.fspath(source) == "-":
        return None
    if worker_count(workers) < 2:
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
            lines_before = _lines_in_a_plain_first_half(file, split)
            if lines_before is None:
                return None
    except OSError:
        return None  # the one-process path reports it properly
    return (
        Part(0, split, 0, False, None, last=False),
        Part(split, size, lines_before, True, "NEM12", last=True),
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


def _lines_in_a_plain_first_half(file: BinaryIO, split: int) -> int | None:
    """Lines before ``split`` if the first half is one plain NEM12 block, else None.

    Plain: it starts with a NEM12 100 header and holds no other 100 and no 900, so the second
    half starts inside that block, as block 1, exactly as one process would be there. Anything
    else (no header, several blocks, NEM13) is rare in big files and read in one process.
    """
    file.seek(0)
    head = file.read(16).removeprefix(_BOM)
    if not head.upper().startswith(b"100,NEM12,"):
        return None
    file.seek(0)
    lines, left, carry = 0, split, b""
    while left > 0:
        chunk = file.read(min(_SCAN, left))
        if not chunk:
            break
        left -= len(chunk)
        lines += chunk.count(b"\n")
        data = carry + chunk
        if data.find(b"\n100,") >= 0 or data.find(b"\n900") >= 0:
            return None
        carry = data[-5:]
    return lines


def _die_with_parent() -> None:
    """Linux: the kernel kills this child if the parent dies (a SIGTERM must not orphan it)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # elsewhere the parent's own cleanup (kill on error) is what there is


class Forked(Generic[Result]):
    """``work()`` run in a forked child; ``join()`` gives its result, or None if it failed."""

    def __init__(self, work: Callable[[], Result]) -> None:
        read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the child: never returns
            os.close(read_end)
            _die_with_parent()
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
