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
from typing import IO, NamedTuple

from nem2cdr.latest import Copy, wins

_BLOCK = 4 << 20  # bytes read from the spool at once


class Entry(NamedTuple):
    """One encoded record and what orders and resolves it."""

    date: int  # ordinal of readStartDate
    suffix: str
    tiebreak: int  # 0 for interval days (so copies collide), a unique number for basic reads
    update: int  # UpdateDateTime as CCYYMMDDhhmmss, 0 when absent
    sequence: int  # position in the file: later records have larger numbers
    line: int
    body: bytes


class _Run:
    """One NMI's records from one stretch of the file, in standard order, bodies on disk."""

    __slots__ = (
        "dates", "file", "lengths", "lines", "offset", "sequences", "suffixes", "tiebreaks",
        "updates",
    )  # fmt: skip

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

    def entry(self, index: int, body: bytes) -> Entry:
        return Entry(
            self.dates[index], self.suffixes[index], self.tiebreaks[index], self.updates[index],
            self.sequences[index], self.lines[index], body,
        )  # fmt: skip


class Placed(NamedTuple):
    file: int
    offset: int
    length: int


# Told (nmi, kept, replaced) when runs from two parts of a file hold the same record.
OnReplace = Callable[[str, Entry, Entry], None]
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
            run.dates.append(entry.date)
            run.suffixes.append(entry.suffix)
            run.tiebreaks.append(entry.tiebreak)
            run.updates.append(entry.update)
            run.sequences.append(entry.sequence)
            run.lines.append(entry.line)
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
        keyed: list[Entry] = []
        for run in runs:
            offset = run.offset
            for i, length in enumerate(run.lengths):
                # The body is not read here: its place stands in for it.
                keyed.append(run.entry(i, _place(run.file, offset, length)))
                offset += length

        def replaced(kept: Entry, lost: Entry) -> None:
            # Copies within one part were reported by the reader that saw both.
            if on_replace is not None and kept.body[:8] != lost.body[:8]:
                on_replace(nmi, kept, lost)

        entries = _resolved(keyed, replaced)
        return [_placed(entry.body) for entry in entries]

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
            for file, offset, length in placed[skip:]:
                yield os.pread(self._files[file].fileno(), length, offset)

    def close(self) -> None:
        for file in self._files:
            file.close()


def _place(file: int, offset: int, length: int) -> bytes:
    return file.to_bytes(8, "big") + offset.to_bytes(8, "big") + length.to_bytes(8, "big")


def _placed(place: bytes) -> Placed:
    return Placed(
        int.from_bytes(place[:8], "big"),
        int.from_bytes(place[8:16], "big"),
        int.from_bytes(place[16:], "big"),
    )


def _resolved(
    entries: list[Entry], on_replace: Callable[[Entry, Entry], None] | None = None
) -> list[Entry]:
    """One entry per (date, suffix, tiebreak), the winner of each, in standard order."""
    best: dict[tuple[int, str, int], Entry] = {}
    for entry in entries:
        key = (entry.date, entry.suffix, entry.tiebreak)
        held = best.get(key)
        if held is None:
            best[key] = entry
            continue
        newer = wins(Copy(entry.update, entry.sequence), Copy(held.update, held.sequence))
        kept, lost = (entry, held) if newer else (held, entry)
        best[key] = kept
        if on_replace is not None:
            on_replace(kept, lost)
    return sorted(best.values(), key=lambda e: (-e.date, e.suffix, e.tiebreak))
