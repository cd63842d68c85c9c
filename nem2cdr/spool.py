"""Putting encoded records in the standard's order in bounded memory.

The standard orders reads by NMI ascending, then readStartDate descending (ties: registerSuffix
ascending). Files come NMI by NMI in practice, so records are gathered per run of one NMI,
resolved (the same day twice: ``nem2cdr.latest.wins``), sorted, and
their encoded bytes appended to a temporary file. Only small per-record keys stay in memory.
An NMI that comes back later in the file is merged with its earlier runs at the end, and so
are the runs of another process that converted the other part of the file (``adopt``).
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple, Protocol, TypeVar

from nem2cdr.latest import Copy, wins

_BLOCK = 4 << 20  # bytes read from the spool at once


class Key(NamedTuple):
    """What orders a record and resolves two copies of it."""

    date: int  # ordinal of readStartDate
    suffix: str
    tiebreak: int  # 0 for interval days (so copies collide), a unique number for basic reads
    update: int  # UpdateDateTime as CCYYMMDDhhmmss, 0 when absent
    sequence: int  # position in the file: later records have larger numbers
    line: int


class Entry(NamedTuple):
    """One encoded record on its way into the spool."""

    key: Key
    body: bytes


class Placed(NamedTuple):
    """A record already in a spool file: where its body is, not the body."""

    key: Key
    file: int  # index into the spool's body files
    offset: int
    length: int


class _Keyed(Protocol):
    @property
    def key(self) -> Key: ...


_Item = TypeVar("_Item", bound=_Keyed)


class _Run:
    """One NMI's records from one stretch of the file, in standard order, bodies on disk."""

    __slots__ = (
        "dates",
        "file",
        "lengths",
        "lines",
        "offset",
        "sequences",
        "suffixes",
        "tiebreaks",
        "updates",
    )

    def __init__(self, file: int, offset: int) -> None:
        self.file = file  # index into the spool's body files
        self.offset = offset
        self.dates = array("l")
        self.suffixes: list[str] = []
        self.tiebreaks = array("q")
        self.updates = array("q")
        self.sequences = array("q")
        self.lines = array("q")
        self.lengths = array("L")

    def key(self, index: int) -> Key:
        return Key(
            self.dates[index],
            self.suffixes[index],
            self.tiebreaks[index],
            self.updates[index],
            self.sequences[index],
            self.lines[index],
        )


# Told (nmi, kept, replaced) when runs from two parts of a file hold the same record.
OnReplace = Callable[[str, Key, Key], None]
Runs = dict[str, list[_Run]]


class Spool:
    def __init__(self, file: IO[bytes] | None = None) -> None:
        self._files: list[IO[bytes]] = [file or tempfile.TemporaryFile()]
        self._end = 0
        self._runs: Runs = {}
        self._nmi: str | None = None
        self._pending: list[Entry] = []
        self._order: list[tuple[str, list[Placed] | _Run]] | None = None

    def add(self, nmi: str, entry: Entry) -> None:
        if nmi != self._nmi:
            self._flush()
            self._nmi = nmi
        self._pending.append(entry)

    def _flush(self) -> None:
        if self._nmi is None or not self._pending:
            return
        entries = _resolved(self._pending)
        self._pending = []
        run = _Run(0, self._end)
        self._files[0].write(b"".join(entry.body for entry in entries))
        for entry in entries:
            key = entry.key
            run.dates.append(key.date)
            run.suffixes.append(key.suffix)
            run.tiebreaks.append(key.tiebreak)
            run.updates.append(key.update)
            run.sequences.append(key.sequence)
            run.lines.append(key.line)
            run.lengths.append(len(entry.body))
        self._end += sum(run.lengths)
        self._runs.setdefault(self._nmi, []).append(run)

    def export(self) -> Runs:
        """What another process's spool needs to ``adopt`` this one (its file is shared)."""
        self._flush()
        self._files[0].flush()
        return self._runs

    def adopt(self, file: IO[bytes], runs: Runs) -> None:
        """Take in the runs another process spooled into ``file``, from a later part."""
        self._flush()
        index = len(self._files)
        self._files.append(file)
        for nmi, theirs in runs.items():
            for run in theirs:
                run.file = index
            self._runs.setdefault(nmi, []).extend(theirs)

    def finish(self, on_replace: OnReplace | None = None) -> int:
        """Close the last run, merge NMIs that came back, and return the number of records."""
        self._flush()
        self._files[0].flush()
        order: list[tuple[str, list[Placed] | _Run]] = []
        total = 0
        for nmi in sorted(self._runs):
            runs = self._runs[nmi]
            if len(runs) == 1:
                order.append((nmi, runs[0]))
                total += len(runs[0].lengths)
            else:
                placed = self._merge(nmi, runs, on_replace)
                order.append((nmi, placed))
                total += len(placed)
        self._order = order
        return total

    def _merge(self, nmi: str, runs: list[_Run], on_replace: OnReplace | None) -> list[Placed]:
        placed: list[Placed] = []
        for run in runs:
            offset = run.offset
            for i, length in enumerate(run.lengths):
                placed.append(Placed(run.key(i), run.file, offset, length))  # bodies stay put
                offset += length

        def replaced(kept: Placed, lost: Placed) -> None:
            # Copies within one part were reported by the reader that saw both.
            if on_replace is not None and kept.file != lost.file:
                on_replace(nmi, kept.key, lost.key)

        return _resolved(placed, replaced)

    def bodies(self, skip: int = 0, limit: int | None = None) -> Iterator[bytes]:
        """Encoded records in standard order, from record ``skip``, at most ``limit`` of them."""
        if self._order is None:
            raise RuntimeError("call finish() first")
        remaining = limit
        for _nmi, placed in self._order:
            count = len(placed.lengths) if isinstance(placed, _Run) else len(placed)
            if skip >= count:
                skip -= count
                continue
            for body in self._read(placed, skip):
                if remaining is not None:
                    if remaining == 0:
                        return
                    remaining -= 1
                yield body
            skip = 0

    def _read(self, placed: list[Placed] | _Run, skip: int) -> Iterator[bytes]:
        if isinstance(placed, _Run):
            fd = self._files[placed.file].fileno()
            # A run is contiguous on disk: read it in large blocks, then slice.
            offset = placed.offset + sum(placed.lengths[:skip])
            lengths = placed.lengths[skip:]
            first = 0
            while first < len(lengths):
                last, size = first, 0
                while last < len(lengths) and (size == 0 or size + lengths[last] <= _BLOCK):
                    size += lengths[last]
                    last += 1
                block = os.pread(fd, size, offset)
                offset += size
                position = 0
                for length in lengths[first:last]:
                    yield block[position : position + length]
                    position += length
                first = last
        else:
            for record in placed[skip:]:
                yield os.pread(self._files[record.file].fileno(), record.length, record.offset)

    def close(self) -> None:
        for file in self._files:
            file.close()


def _resolved(
    items: list[_Item], on_replace: Callable[[_Item, _Item], None] | None = None
) -> list[_Item]:
    """One item per (date, suffix, tiebreak), the winner of each, in standard order."""
    best: dict[tuple[int, str, int], _Item] = {}
    for item in items:
        key = item.key
        slot = (key.date, key.suffix, key.tiebreak)
        held = best.get(slot)
        if held is None:
            best[slot] = item
            continue
        old = held.key
        newer = wins(Copy(key.update, key.sequence), Copy(old.update, old.sequence))
        kept, lost = (item, held) if newer else (held, item)
        best[slot] = kept
        if on_replace is not None:
            on_replace(kept, lost)
    return sorted(best.values(), key=lambda i: (-i.key.date, i.key.suffix, i.key.tiebreak))
