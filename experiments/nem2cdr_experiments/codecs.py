"""Compression as a web server would apply it, with reproducible sizes.

gzip gets a fixed mtime (and no file name) so the same bytes always compress to the same size.

A payload is compressed as it is produced (``Sizes``): up to ``ONE_CALL_LIMIT`` bytes it is held
and compressed in one call, as a server compresses a response whose length it knows; past that
it streams into each codec's streaming compressor, so memory stays bounded. The two give the
same gzip bytes; zstd and brotli tune themselves to a known size, so a payload past the limit
compresses a few bytes differently than it would in one call (as a streamed response does).
"""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Protocol

import brotli
import msgspec
import zstandard

DEFAULT = "gzip:6,zstd:3,brotli:5"  # what a server applies on the fly to a dynamic response
MAX = "gzip:9,zstd:19,brotli:11"  # what a precompressed static file would get
_LEVELS = {"gzip": range(0, 10), "zstd": range(1, 23), "brotli": range(0, 12)}


class Codec(msgspec.Struct, frozen=True):
    name: str
    level: int

    @property
    def label(self) -> str:
        return f"{self.name}-{self.level}"

    def compress(self, data: bytes) -> bytes:
        return _COMPRESSORS[self.name](data, self.level)

    def compressor(self) -> Compressor:
        """A streaming compressor: ``compress`` pieces, then ``flush`` once."""
        if self.name == "gzip":
            return zlib.compressobj(self.level, zlib.DEFLATED, 31)  # 31: a gzip header, mtime 0
        if self.name == "zstd":
            return zstandard.ZstdCompressor(level=self.level).compressobj()
        return _Brotli(brotli.Compressor(quality=self.level))


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self) -> bytes: ...


class _Brotli:
    """brotli's Compressor names its last call ``finish``."""

    def __init__(self, compressor: brotli.Compressor) -> None:
        self._compressor = compressor

    def compress(self, data: bytes, /) -> bytes:
        return bytes(self._compressor.process(data))

    def flush(self) -> bytes:
        return bytes(self._compressor.finish())


ONE_CALL_LIMIT = 4 << 20  # bytes of payload held for one-call compression before streaming


class Sizes:
    """A payload's raw and compressed sizes, counted as its pieces arrive (memory bounded)."""

    def __init__(self, codecs: Sequence[Codec]) -> None:
        self.codecs = list(codecs)
        self.raw = 0
        self._held: bytearray | None = bytearray()
        self._streams: list[Compressor] = []
        self._compressed = [0] * len(self.codecs)
        self.cpu_seconds = [0.0] * len(self.codecs)  # process CPU time spent compressing

    def write(self, piece: bytes) -> None:
        self.raw += len(piece)
        if self._held is not None:
            self._held += piece
            if len(self._held) <= ONE_CALL_LIMIT:
                return
            self._streams = [codec.compressor() for codec in self.codecs]
            piece, self._held = bytes(self._held), None
        for index, stream in enumerate(self._streams):
            start = time.process_time()
            self._compressed[index] += len(stream.compress(piece))
            self.cpu_seconds[index] += time.process_time() - start

    def close(self) -> dict[str, int]:
        """The compressed size per codec label (call once, after the last piece)."""
        for index, codec in enumerate(self.codecs):
            start = time.process_time()
            if self._held is not None:
                self._compressed[index] = len(codec.compress(bytes(self._held)))
            else:
                self._compressed[index] += len(self._streams[index].flush())
            self.cpu_seconds[index] += time.process_time() - start
        return {
            codec.label: size for codec, size in zip(self.codecs, self._compressed, strict=True)
        }

    def cpu_ms(self) -> dict[str, float]:
        """The CPU time each codec took, in milliseconds."""
        pairs = zip(self.codecs, self.cpu_seconds, strict=True)
        return {codec.label: round(seconds * 1000, 3) for codec, seconds in pairs}


def _gzip(data: bytes, level: int) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


def _zstd(data: bytes, level: int) -> bytes:
    return zstandard.ZstdCompressor(level=level).compress(data)


def _brotli(data: bytes, level: int) -> bytes:
    return bytes(brotli.compress(data, quality=level))


_COMPRESSORS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gzip,
    "zstd": _zstd,
    "brotli": _brotli,
}


def parse(spec: str) -> list[Codec]:
    """``default``, ``max`` (default plus the highest levels), or ``name:level,...``."""
    text = spec.strip().lower()
    if text == "default":
        text = DEFAULT
    elif text == "max":
        text = f"{DEFAULT},{MAX}"
    codecs: list[Codec] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, level = item.partition(":")
        if name not in _LEVELS:
            raise ValueError(f"unknown codec {name!r}: use gzip, zstd or brotli")
        if not level.isdigit() or int(level) not in _LEVELS[name]:
            levels = _LEVELS[name]
            raise ValueError(
                f"{name} level must be {levels.start}-{levels.stop - 1}, not {level!r}"
            )
        codec = Codec(name, int(level))
        if codec not in codecs:
            codecs.append(codec)
    if not codecs:
        raise ValueError("no codec given")
    return codecs
