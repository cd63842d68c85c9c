"""Compression as a web server would apply it, with reproducible sizes.

gzip gets a fixed mtime (and no file name) so the same bytes always compress to the same size.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

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
