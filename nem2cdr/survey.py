"""The first of an export's two reads: what the inputs hold before a row is written.

An export writes nothing when a file has errors (unless asked), leaves out days that a later
copy replaces, and gives every value one decimal type. All three are only known at the end of a
read, and a stream of record batches must know them before its first row, so the inputs are
read twice: this read keeps no record, only the diagnostics, the position of every superseded
day and the digits the values need. Its memory is the reader's own: a few bytes per day.

Records are numbered in the order the inputs give them (file by file, member by member, line by
line); the second read numbers them the same way, so a number names the same record in both.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from nem2cdr.diagnostics import Diagnostics
from nem2cdr.fields import stamp
from nem2cdr.latest import Copy, wins
from nem2cdr.model import BasicRead, IntervalDay
from nem2cdr.reader import Part, Reader
from nem2cdr.seen_days import SeenDays
from nem2cdr.sources import Source, source_name
from nem2cdr.writer import format_value

_DIGITS_AS_D = bytes(ord("d") if chr(byte).isdigit() else byte for byte in range(256))


@dataclass
class Digits:
    """How wide the inputs' decimals are: the most digits before and after the point."""

    whole: int = 1
    places: int = 0

    def note(self, text: bytes) -> None:
        """Widen to hold every decimal in ``text`` (comma-separated decimals)."""
        shape = text.translate(_DIGITS_AS_D)  # "d.ddd,dd.d,..."
        while b"." + b"d" * (self.places + 1) in shape:
            self.places += 1
        # A run of digits is at least as long as the whole part it holds: a bound, cheaply.
        while b"d" * (self.whole + 1) in shape:
            self.whole += 1


# An input: a source, or a part of a plain file that another process reads the rest of.
Input = Source | tuple[Source, Part]


@dataclass
class Survey:
    """What the first read found in all the inputs together."""

    diagnostics: Diagnostics
    superseded: set[int] = field(default_factory=set)  # numbers of the days a copy replaces
    digits: Digits = field(default_factory=Digits)
    days: int = 0
    basic_reads: int = 0
    files: list[str] = field(default_factory=list)
    firsts: list[int] = field(default_factory=list)  # the first record number of each input


def value_text(day: IntervalDay) -> bytes:
    """A day's values as the file wrote them (the reader keeps the text unless it repaired it:
    then the shortest decimal of each value, which is the number the file meant)."""
    return day.values_text or ",".join(map(format_value, day.values)).encode()


def basic_numbers(read: BasicRead) -> list[float | None]:
    """A NEM13 read's three quantities, in the accumulation table's order."""
    return [read.previous_register_read, read.current_register_read, read.quantity]


def _reader(item: Input, strict: bool) -> Reader:
    source, part = item if isinstance(item, tuple) else (item, None)
    rewind(source)
    return Reader(source, strict=strict, keep_text=True, part=part)


def survey(sources: Sequence[Input], *, strict: bool = False) -> Survey:
    """Read ``sources`` through once, in order, as one input (see the module's docstring).

    A day given twice (in one file or in two) is decided by ``nem2cdr.latest.wins``, the rule
    ``convert`` uses, with the later position meaning the later file, then the later line.
    """
    result = Survey(Diagnostics(strict=strict))
    for _ in surveying(sources, result, strict=strict):
        pass
    return result


def surveying(
    sources: Sequence[Input], result: Survey, *, strict: bool = False
) -> Iterator[tuple[Located, Reader]]:
    """``survey``'s read, giving each record as it is read (and its reader, whose findings
    so far are ``reader.diagnostics``); ``result`` is complete when the iterator is."""
    found = result.diagnostics
    seen = SeenDays()
    firsts = result.firsts
    number = 0
    for source in sources:
        reader = _reader(source, strict)
        firsts.append(number + 1)
        result.files.append(reader.name)
        for record in reader:
            number += 1
            if isinstance(record, IntervalDay):
                result.days += 1
                result.digits.note(value_text(record))
                update = _stamp(record.update_datetime)
                stream = record.stream
                earlier = seen.record(stream.nmi, stream.suffix, record.date, number, update)
                if earlier is not None:
                    later = wins(Copy(update, number), Copy(earlier.update, earlier.line))
                    result.superseded.add(earlier.line if later else number)
                    other = bisect.bisect_right(firsts, earlier.line) - 1
                    if other != len(firsts) - 1:  # within one input the reader has said so
                        _report_across(reader, record, result.files[other], later)
            else:
                result.basic_reads += 1
                numbers = [format_value(n) for n in basic_numbers(record) if n is not None]
                result.digits.note(",".join(numbers).encode())
            yield Located(record, reader.members[-1]), reader
        found.absorb(reader.diagnostics)


def _report_across(reader: Reader, day: IntervalDay, other: str, later: bool) -> None:
    stream = day.stream
    winner = f"line {day.line}" if later else other
    reader.diagnostics.add(
        "NEM12-W011",
        reader.name,
        day.line,
        f"NMI {stream.nmi} {stream.suffix} {day.date.isoformat()} also in {other}: "
        f"{winner} wins (later UpdateDateTime, then the later file)",
    )


def _stamp(moment: datetime | None) -> int:
    return 0 if moment is None else stamp(moment)


class Located(NamedTuple):
    """A record of the second read, with where it came from and whether a copy replaced it."""

    record: IntervalDay | BasicRead
    file: str  # the file, "archive.zip:member.csv" for a zip member
    superseded: bool = False


def second_read(
    sources: Sequence[Input],
    found: Survey,
    *,
    strict: bool = False,
    keep_superseded: bool = False,
    first: int = 0,
    last: int | None = None,
) -> Iterator[Located]:
    """The records of ``sources[first:last]`` again, numbered as ``survey`` numbered them:
    superseded days left out, or flagged when ``keep_superseded``."""
    number = found.firsts[first] - 1 if sources else 0
    for source in sources[first:last]:
        reader = _reader(source, strict)
        for record in reader:
            number += 1
            superseded = number in found.superseded
            if superseded and not keep_superseded:
                continue
            yield Located(record, reader.members[-1], superseded)


def rewind(source: Source) -> None:
    """Put an open input back at its start: it is read twice (a path is opened twice)."""
    if isinstance(source, (str, os.PathLike)):
        if os.fspath(source) == "-":
            raise ValueError("standard input cannot be read twice: give a file")
        return
    if not source.seekable():
        raise ValueError(f"{source_name(source)} cannot be read twice: give a seekable file")
    source.seek(0)
