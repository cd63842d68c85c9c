"""Writing a file whole or not at all: the one way both products write their outputs.

The bytes go to a hidden temporary file beside the target (same folder, so the same file
system) and are renamed over it only when complete: a failure, Ctrl-C or a full disk leaves the
previous file as it was and no temporary behind. Hidden, because mmtlite's ingest and a user's
``ls`` both pass over dot-files. A symbolic link is written through (its target is replaced,
the link stays), an existing file keeps its permissions, and a file that is not a regular file
(a FIFO, ``/dev/null``, a terminal) is written directly: there is nothing to replace there.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

STDOUT = "-"


def temporary_for(path: Path) -> Path:
    """The hidden name ``path`` is written under; the process id keeps two writers apart."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], *, exclusive: bool = False, buffering: int = 1 << 20
) -> Iterator[BinaryIO]:
    """A binary stream whose bytes become ``path`` when the ``with`` block ends without error.

    ``"-"`` is standard output (written as it goes: there is nothing to replace). Missing
    parent folders are created. With ``exclusive``, an existing ``path`` is never replaced:
    ``FileExistsError`` before anything is written, or at the end if another writer created it
    meanwhile (the rename is then a hard link, which fails rather than overwrites). Errors are
    ``OSError``s that name ``path``, never the temporary.
    """
    name = os.fspath(path)
    if name == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if not name:
        raise FileNotFoundError(errno.ENOENT, "an empty name names no file", "''")
    if exclusive and os.path.lexists(name):
        raise FileExistsError(errno.EEXIST, "File exists", name)
    existing = _stat(Path(name))  # through links, /proc's too: /dev/stdout may be a pipe
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with _naming(name), open(name, "wb", buffering=buffering) as direct:
            yield direct
        return
    target = Path(os.path.realpath(name))  # a link's target is what gets replaced
    with _naming(name):
        target.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_for(target)
    try:
        with _naming(name):
            stream = open(temporary, "wb", buffering=buffering)
        with stream:
            yield stream
        with _naming(name):
            if existing is not None:
                os.chmod(temporary, stat.S_IMODE(existing.st_mode))
            if exclusive:
                os.link(temporary, target)
            else:
                os.replace(temporary, target)
    finally:
        with _naming(name):  # a temporary's name too long to make is too long to remove
            temporary.unlink(missing_ok=True)


@contextmanager
def staged_folder(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """A hidden folder beside ``folder`` to write a set of files into, moved into ``folder``
    (created if missing; files of the same name replaced) when the block ends without error.

    So an interrupted or failed run adds nothing to ``folder``: not half of its files, and not
    a mix of new files with an earlier run's.
    """
    name = os.fspath(folder)
    if not name:
        raise FileNotFoundError(errno.ENOENT, "an empty name names no folder", "''")
    target = Path(os.path.realpath(name))
    with _naming(name):
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        )
    try:
        yield staging
        with _naming(name):
            target.mkdir(exist_ok=True)
            for path in sorted(staging.iterdir()):
                os.replace(path, target / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replaces(path: str | os.PathLike[str]) -> bool:
    """Whether ``atomic_write(path)`` writes a temporary and renames it (so a write given up
    leaves nothing): not for standard output, nor a FIFO or device, which are written directly."""
    name = os.fspath(path)
    if name == STDOUT or not name:
        return False
    try:
        existing = _stat(Path(name))
    except OSError:
        return False  # atomic_write says what is wrong with it
    return existing is None or stat.S_ISREG(existing.st_mode)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """An ``OSError`` from the temporary's or the folder's side told as one about ``name``."""
    try:
        yield
    except OSError as exc:
        if exc.filename == name:
            raise
        raise type(exc)(exc.errno, exc.strerror, name) from None


def write_atomically(path: str | os.PathLike[str], data: bytes, *, exclusive: bool = False) -> None:
    """``data`` as the whole of ``path`` (see ``atomic_write``)."""
    with atomic_write(path, exclusive=exclusive) as stream:
        stream.write(data)
