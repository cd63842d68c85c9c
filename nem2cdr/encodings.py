"""Content negotiation for ``nem2cdr serve``: which coding a client accepts, the bytes in it,
and a bounded cache of pages already encoded.

``Accept-Encoding`` is read as RFC 9110 says: each coding with an optional ``q`` weight, ``*``
for any coding not named, ``identity`` acceptable unless refused. The highest weight wins; on
a tie the smaller, faster coding is preferred (zstd, then br, then gzip, then identity), and
identity not named comes after every coding that is.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Literal

import brotli
import msgspec
import zstandard

Coding = Literal["zstd", "br", "gzip", "identity"]
PREFERENCE: tuple[Coding, ...] = ("zstd", "br", "gzip", "identity")
_LAST_RESORT = 1e-9  # the weight of identity when the header does not name it
_WEIGHT_DIGITS = 5  # "q=0.123" at most: RFC 9110's qvalue has three decimals


class Levels(msgspec.Struct, frozen=True):
    """Compression levels; the defaults are the experiments' (a fast, usual setting each)."""

    gzip: int = 6
    br: int = 5
    zstd: int = 3

    def __post_init__(self) -> None:
        for name, low, high in (("gzip", 1, 9), ("br", 0, 11), ("zstd", 1, 22)):
            if not low <= getattr(self, name) <= high:
                raise ValueError(f"the {name} level must be from {low} to {high}")


def choose(accept_encoding: str | None) -> Coding:
    """The coding to answer in (identity when nothing else is acceptable)."""
    if not accept_encoding:
        return "identity"
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, parameters = item.partition(";")
        name = name.strip().lower()
        if name == "x-gzip":
            name = "gzip"
        weight = _weight(parameters)
        if name and weight is not None:
            weights[name] = weight
    anything = weights.get("*")
    best: Coding = "identity"
    best_weight = 0.0
    for coding in PREFERENCE:
        weight = weights.get(coding, anything)
        if weight is None:
            # Not named: identity stays acceptable (RFC 9110), below any coding named.
            weight = _LAST_RESORT if coding == "identity" else 0.0
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def _weight(parameters: str) -> float | None:
    """The ``q`` of one coding (1 when absent); None when it is not a valid weight."""
    for parameter in parameters.split(";"):
        key, _, value = parameter.strip().partition("=")
        if key.strip().lower() != "q":
            continue
        text = value.strip()
        if not text or len(text) > _WEIGHT_DIGITS or text.count(".") > 1:
            return None
        if not text.replace(".", "", 1).isdigit():
            return None
        weight = float(text)
        return weight if weight <= 1 else None
    return 1.0


class Encoder:
    """Encodes a page in each coding at the configured levels (one per process)."""

    def __init__(self, levels: Levels) -> None:
        self.levels = levels
        zstd = zstandard.ZstdCompressor(level=levels.zstd)
        self._by_coding: dict[Coding, Callable[[bytes], bytes]] = {
            "zstd": zstd.compress,
            "br": lambda data: bytes(brotli.compress(data, quality=levels.br)),
            # mtime 0: the same page is the same bytes, whenever it is made.
            "gzip": lambda data: gzip.compress(data, levels.gzip, mtime=0),
            "identity": bytes,
        }

    def encode(self, data: bytes, coding: Coding) -> bytes:
        return self._by_coding[coding](data)


# What an entry costs beyond its bytes (the key's tuple and strings, the dict slot): a rough
# allowance, so that a cache of many small pages keeps to its limit too.
_ENTRY_OVERHEAD = 512


class PageCache:
    """Least recently used pages, at most ``limit`` bytes in all (0: nothing is kept)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def put(self, key: Hashable, page: bytes) -> None:
        cost = len(page) + _ENTRY_OVERHEAD
        if cost > self.limit or key in self._pages:
            return
        self._pages[key] = page
        self.size += cost
        while self.size > self.limit:
            _, dropped = self._pages.popitem(last=False)
            self.size -= len(dropped) + _ENTRY_OVERHEAD

    def __len__(self) -> int:
        return len(self._pages)
