"""Writing a file whole or not at all: the one way both products write their outputs.

The bytes go to a hidden temporary file beside the target (same folder, so the same file
system) and are renamed over it only when complete: a failure, Ctrl-C or a full disk leaves the
previous file as it was and no temporary behind. Hidden, because mmtlite's ingest and a user's
``ls`` both pass over dot-files.
"""

from __future__ import annotations

import os
import sys
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
    meanwhile (the rename is then a hard link, which fails rather than overwrites).
    """
    if os.fspath(path) == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    if exclusive and target.exists():
        raise FileExistsError(17, "File exists", os.fspath(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_for(target)
    try:
        with open(temporary, "wb", buffering=buffering) as stream:
            yield stream
        if exclusive:
            os.link(temporary, target)
        else:
            os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomically(path: str | os.PathLike[str], data: bytes, *, exclusive: bool = False) -> None:
    """``data`` as the whole of ``path`` (see ``atomic_write``)."""
    with atomic_write(path, exclusive=exclusive) as stream:
        stream.write(data)
