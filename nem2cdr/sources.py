"""Turning what the caller gives (a path, ``-``, an open binary file) into streams of lines.

A zip is recognised by its magic bytes, not its name, and every member is read in order. Lines
are bytes: decoding every line to text would cost more than parsing it.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import IO, BinaryIO, NamedTuple, Union, cast

Source = Union[str, "os.PathLike[str]", BinaryIO, IO[bytes]]

_BUFFER = 1 << 20
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
# A zip from a pipe must be seekable; keep small ones in memory, spill big ones to disk.
_SPOOL_IN_MEMORY = 64 << 20


# What reading a member's lines can raise when the bytes underneath are corrupt.
# (NotImplementedError: an unknown compression or zip version; RuntimeError: encrypted.)
READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


class Member(NamedTuple):
    """One CSV text to parse: a plain file or one member of a zip."""

    name: str
    lines: IO[bytes]


class SourceError(Exception):
    """The input cannot be opened or unpacked; the message is for the user."""


def source_name(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        return "<stdin>" if text == "-" else text
    return str(getattr(source, "name", "<stream>"))


class Progress:
    """How far reading has got through the outer file (for progress bars), when it can tell."""

    def __init__(self) -> None:
        self._stream: IO[bytes] | None = None
        self._start = 0
        self.total: int | None = None  # bytes, when the source is a regular file

    def follow(self, stream: IO[bytes], start: int = 0, end: int | None = None) -> None:
        """Follow ``stream`` (the raw file under the lines), from ``start`` to ``end`` or EOF."""
        self._stream, self._start = stream, start
        try:
            size = os.fstat(stream.fileno()).st_size if stream.seekable() else None
        except (OSError, ValueError, io.UnsupportedOperation):
            size = None
        self.total = None if size is None else (end if end is not None else size) - start

    EVERY = 500  # records between reports

    def tick(self, count: int, on_progress: Callable[[float], None] | None) -> None:
        """Every ``EVERY`` records, tell ``on_progress`` the fraction read, when it is known."""
        if on_progress is not None and count % self.EVERY == 0:
            done = self.done()
            if done is not None and self.total:
                on_progress(min(1.0, done / self.total))

    def done(self) -> int | None:
        if self._stream is None or self.total is None:
            return None
        try:
            return self._stream.tell() - self._start
        except (OSError, ValueError):
            return None


def open_members(
    source: Source, stack: ExitStack, progress: Progress | None = None
) -> Iterator[Member]:
    """Yield each CSV text of ``source``; files opened here are closed by ``stack``."""
    name = source_name(source)
    if isinstance(source, (str, os.PathLike)):
        if os.fspath(source) == "-":
            raw: IO[bytes] = sys.stdin.buffer
        else:
            try:
                raw = stack.enter_context(open(source, "rb", buffering=_BUFFER))
            except OSError as exc:
                raise SourceError(f"cannot open: {exc.strerror or exc}") from exc
            if not os.path.isfile(source):
                raise SourceError("not a regular file")
    else:
        raw = source
    stream = _peekable(raw)
    if progress is not None:
        progress.follow(stream)
    magic = stream.peek(4)[:4]
    if magic in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
        yield from _zip_members(name, stream, stack)
    else:
        yield Member(name, stream)


def _peekable(raw: IO[bytes]) -> io.BufferedReader:
    if isinstance(raw, io.BufferedReader):
        return raw
    if isinstance(raw, io.RawIOBase):
        return io.BufferedReader(raw, _BUFFER)
    # Any other file-like object: BufferedReader needs a raw stream with readinto.
    return io.BufferedReader(_RawAdapter(raw), _BUFFER)


class _RawAdapter(io.RawIOBase):
    """A raw stream over any file-like object, stopping after ``limit`` bytes if given."""

    def __init__(self, inner: IO[bytes], limit: int | None = None) -> None:
        self.inner = inner
        self.left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        wanted = len(buffer) if self.left is None else min(len(buffer), self.left)
        data = self.inner.read(wanted) if wanted else b""
        size = len(data)
        buffer[:size] = data
        if self.left is not None:
            self.left -= size
        return size


def _zip_members(name: str, stream: io.BufferedReader, stack: ExitStack) -> Iterator[Member]:
    seekable: IO[bytes] = stream
    if not stream.seekable():
        spool = stack.enter_context(tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY))
        shutil.copyfileobj(stream, spool, _BUFFER)
        spool.seek(0)
        seekable = spool
    try:
        archive = stack.enter_context(zipfile.ZipFile(seekable))
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except READ_ERRORS as exc:
        raise SourceError(f"not a readable zip: {exc}") from exc
    if not infos:
        raise SourceError("the zip holds no file")
    for info in infos:
        try:
            member = stack.enter_context(archive.open(info))
        except READ_ERRORS as exc:
            raise SourceError(f"cannot unpack {info.filename}: {exc}") from exc
        # ZipExtFile.readline is written in Python; a BufferedReader on top makes it C.
        lines = io.BufferedReader(cast(io.RawIOBase, member), _BUFFER)
        yield Member(f"{name}:{info.filename}", lines)


def open_part(
    source: Source, start: int, end: int, stack: ExitStack, progress: Progress | None = None
) -> Member:
    """The lines of bytes ``start``..``end`` of a plain file (for reading it in parts)."""
    raw = stack.enter_context(open(source, "rb", buffering=0))  # type: ignore[arg-type]
    raw.seek(start)
    if progress is not None:
        progress.follow(raw, start, end)
    return Member(source_name(source), io.BufferedReader(_RawAdapter(raw, end - start), _BUFFER))
