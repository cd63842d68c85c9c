"""Writing a file a user named: whole or not at all (``nem2cdr.atomic``), and a failure told
as ``OutputError`` with the user's path, not the hidden temporary nor an ``[Errno]``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from mmtlite.errors import Exists, OutputError
from nem2cdr.atomic import atomic_write


@contextmanager
def output_file(path: str | os.PathLike[str], *, exclusive: bool = False) -> Iterator[BinaryIO]:
    """``atomic_write(path)`` (which writes a device or a pipe as it is); with ``exclusive``,
    an existing ``path`` raises ``Exists``."""
    try:
        with atomic_write(path, exclusive=exclusive) as stream:
            yield stream
    except OSError as exc:
        raise _failure(os.fspath(path), exc, exclusive) from None


def write_file(path: str | os.PathLike[str], data: bytes, *, exclusive: bool = False) -> None:
    """``data`` as the whole of ``path`` (see ``output_file``)."""
    with output_file(path, exclusive=exclusive) as stream:
        stream.write(data)


def _failure(path: str, exc: OSError, exclusive: bool) -> OutputError:
    if exclusive and isinstance(exc, FileExistsError) and os.path.lexists(path):
        return Exists(f"{path} exists already: nothing written")
    if isinstance(exc, FileExistsError | NotADirectoryError):
        # Making the missing folders met a file where a folder should be.
        return OutputError(f"cannot write {path}: a part of its folder is a file")
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")
