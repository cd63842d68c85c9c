"""The run's output paths, checked before any work: a run of minutes must not end in
"cannot write" (``--chart a-file/c.svg`` where ``a-file`` is a file)."""

from __future__ import annotations

import errno
import os
from pathlib import Path


class OutputError(OSError):
    """An output path that cannot be written; ``str`` is one line for the user."""

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"


def _fail(code: int, path: str) -> OutputError:
    return OutputError(code, os.strerror(code), path)


def check_file(path: str | os.PathLike[str]) -> None:
    """A file can be written at ``path``: written atomically (``nem2cdr.atomic``), with its
    folder made if missing, as ``convert -o`` and ``export -o`` make theirs."""
    name = os.fspath(path)
    target = Path(os.path.abspath(name))
    if target.is_dir():
        raise _fail(errno.EISDIR, name)
    _check_creatable(target.parent, name)


def check_folder(path: str | os.PathLike[str]) -> None:
    """Files can be put into the folder ``path`` (made, with its parents, if missing)."""
    name = os.fspath(path)
    target = Path(os.path.abspath(name))
    if target.exists() and not target.is_dir():
        raise _fail(errno.ENOTDIR, name)
    # The payloads are staged beside the folder: its parent (or the first that exists) must
    # take new entries.
    _check_creatable(target.parent, name)


def _check_creatable(folder: Path, name: str) -> None:
    """``folder`` takes new entries, or can be made: the first of it and its parents that
    exists is a folder this process may write in."""
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise _fail(errno.ENOTDIR, name)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _fail(errno.EACCES, name)
