"""Where the library writes: a path (whole or not at all), ``"-"`` for standard output, or an
open binary stream the caller owns."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from nem2cdr.atomic import atomic_write

Target = str | os.PathLike[str] | BinaryIO


@contextmanager
def opened(target: Target) -> Iterator[BinaryIO]:
    """A binary stream to write: an open stream as it is, a path (or "-") via ``atomic_write``."""
    if isinstance(target, (str, os.PathLike)):
        with atomic_write(target) as stream:
            yield stream
    else:
        yield target


def target_name(target: Target) -> str:
    """The name a report gives ``target``: the path, "-", or the stream's name."""
    if isinstance(target, (str, os.PathLike)):
        return os.fspath(target)
    return str(getattr(target, "name", "<stream>"))


def same_file(source: object, target: Target) -> bool:
    """Whether ``target`` is the file ``source`` names (writing it would destroy the input)."""
    if not isinstance(source, (str, os.PathLike)) or not isinstance(target, (str, os.PathLike)):
        return False
    if "-" in (os.fspath(source), os.fspath(target)):
        return False
    try:
        return os.path.samefile(source, target)
    except OSError:  # either does not exist (yet): not the same file
        return False
