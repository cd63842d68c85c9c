"""The streaming NEM12/NEM13 reader: bytes in, model records and diagnostics out.

``read(source)`` returns a ``Reader``; iterating it yields ``IntervalDay`` and ``BasicRead``
records one at a time, so memory does not grow with the file. Everything the reader finds is a
``Diagnostic`` in ``reader.diagnostics``: errors skip the day or record they concern (never a
guess), warnings are deviations read without loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, datetime
from typing import IO, NamedTuple, TypeVar

from nem2cdr.diagnostics import Diagnostics
from nem2cdr.fields import (
    UOM_BY_LOWER,
    decode_text,
    is_quality_method,
    parse_date,
    parse_datetime,
    parse_reason_code,
    stamp,
)
from nem2cdr.latest import Copy, wins
from nem2cdr.model import (
    B2BDetail,
    BasicB2B,
    BasicRead,
    Diagnostic,
    Header,
    IntervalDay,
    QualitySpan,
    Record,
    Stats,
    Stream,
)
from nem2cdr.seen_days import SeenDays
from nem2cdr.sources import (
    READ_ERRORS,
    Progress,
    Source,
    SourceError,
    open_members,
    open_part,
    source_name,
)
from nem2cdr.values import decode_fields, decode_one, decode_segment

_RECORDS = frozenset({b"100", b"200", b"250", b"300", b"400", b"500", b"550", b"900"})
_QUALITY_LETTERS = frozenset({b"A", b"E", b"F", b"N", b"S", b"V"})
_SPEC_INTERVALS = (5, 15, 30)
_BOM = b"\xef\xbb\xbf"
_Moment = TypeVar("_Moment", date, datetime)
_HERE = -1  # "the current line" for _MemberParser.add
# The longest record is a 300 of 1-minute data, about 12 KB; a line beyond this is garbage,
# read past in pieces so that memory does not follow it.
_MAX_LINE = 1 << 20
_MEMBER_SHIFT = 40  # SeenDays holds member index << 40 | line
# Fields of each record, counting its indicator.
_FIELDS_100, _FIELDS_200, _FIELDS_250 = 5, 10, 23
_FIELDS_300_TRAIL, _FIELDS_400, _FIELDS_500, _FIELDS_550 = 5, 6, 5, 5
# The error for a record too short to use.
_SHORT_RECORD = {
    "100": "NEM12-E006",
    "200": "NEM12-E005",
    "250": "NEM12-E030",
    "400": "NEM12-E025",
    "500": "NEM12-E031",
    "550": "NEM12-E031",
}


def read(source: Source, *, strict: bool = False, keep_text: bool = False) -> Reader:
    """Read a NEM12/NEM13 file: a path, ``"-"`` for standard input, or an open binary file.

    ``.zip`` files (recognised by content) are read member by member, in order.
    ``keep_text`` fills ``IntervalDay.values_text`` (for converters).
    """
    return Reader(source, strict=strict, keep_text=keep_text)


class Part(NamedTuple):
    """A stretch of a plain file that one process reads while another reads the rest.

    ``start`` is the first byte of a line (a 200 record, except for the first part); the
    parser starts in the state the lines before would have left it in.
    """

    start: int
    end: int  # exclusive
    lines_before: int
    in_block: bool  # a block is open at ``start`` (no 900 since its 100, or implicit)
    version: str | None  # of that block
    last: bool  # reaches the end of the file: the end-of-file checks apply


class Reader:
    """Iterate once to get the records; diagnostics and stats fill in as you go."""

    def __init__(
        self,
        source: Source,
        *,
        strict: bool = False,
        keep_text: bool = False,
        part: Part | None = None,
    ) -> None:
        self.source = source
        self.part = part
        self.keep_text = keep_text
        self.name = source_name(source)
        self.diagnostics = Diagnostics(strict=strict)
        self.stats = Stats()
        self.headers: list[Header] = []
        # (member, line) of days that a later copy of the same (NMI, suffix, date) replaces.
        self.superseded: set[tuple[str, int]] = set()
        self.members: list[str] = []  # the CSV texts read so far (zip members, in order)
        self._nmis: set[str] = set()
        self._streams: set[tuple[str, str]] = set()
        self.progress = Progress()
        self._seen = SeenDays()
        self._used = False

    def __iter__(self) -> Iterator[Record]:
        if self._used:
            raise RuntimeError("a Reader can be iterated only once; call read() again")
        self._used = True
        with ExitStack() as stack:
            try:
                members = (
                    open_members(self.source, stack, self.progress)
                    if self.part is None
                    else [
                        open_part(self.source, self.part.start, self.part.end, stack, self.progress)
                    ]
                )
                for member in members:
                    self.members.append(member.name)
                    parser = _MemberParser(self, member.name, self.part)
                    try:
                        yield from parser.parse(member.lines)
                    except READ_ERRORS as exc:
                        # A corrupt zip member fails part way through its lines.
                        self.diagnostics.add(
                            "NEM12-E007", member.name, parser.lineno, f"read failed: {exc}"
                        )
            except SourceError as exc:
                self.diagnostics.add("NEM12-E007", self.name, None, str(exc))
        self.stats.nmis = len(self._nmis)
        self.stats.streams = len(self._streams)

    def records(self) -> list[Record]:
        """Read everything into a list (for small files and tests)."""
        return list(self)


class _PendingDay:
    """A 300 row waiting for its 400 and 500 records."""

    __slots__ = ("b2b", "day", "events", "failed", "line", "stream", "update")

    def __init__(self, stream: Stream, day: IntervalDay, update: int, line: int) -> None:
        self.stream = stream
        self.day = day
        self.update = update
        self.line = line
        self.events: list[QualitySpan] = []
        self.b2b: list[B2BDetail] = []
        self.failed = False


class _MemberParser:
    """The grammar's state machine over the lines of one CSV text."""

    def __init__(self, reader: Reader, name: str, part: Part | None = None) -> None:
        self.reader = reader
        self.keep_text = reader.keep_text
        self.name = name
        self.diag = reader.diagnostics
        self.part = part
        self.lineno = part.lines_before if part else 0
        self.version: str | None = part.version if part else None  # of the current block
        self.blocks = 1 if part and part.start else 0  # a later part: the file had a block
        self.in_block = bool(part and part.in_block)
        self.ended = False  # a 900 closed the last block
        self.data_records = 0  # 200 and 250 records seen, good or bad
        self.stream: Stream | None = None
        self.bad_stream_line: int | None = None  # the malformed 200 the next 300s belong to
        self.pending: _PendingDay | None = None
        self.skipping_day: int | None = None  # line of a rejected 300 whose 400/500s follow
        self.broken_line: int | None = None  # a 300 that ended early
        self.broken_values = 0
        self.continuations = 0
        self.basic: BasicRead | None = None
        self.erred = False
        # Which member this is, as SeenDays stores it beside each line.
        self.member_bits = max(0, len(reader.members) - 1) << _MEMBER_SHIFT

    def add(self, code: str, message: str, line: int | None = _HERE) -> None:
        if code[6] == "E":
            self.erred = True  # the record being read had an error: it is not yielded
        self.diag.add(code, self.name, self.lineno if line == _HERE else line, message)

    # -- the loop ---------------------------------------------------------------------------

    def parse(self, lines: IO[bytes]) -> Iterator[Record]:
        first = not (self.part and self.part.start)  # the file's first line: BOM, E002
        readline = lines.readline
        while raw := readline(_MAX_LINE):
            self.lineno += 1
            if len(raw) == _MAX_LINE and raw[-1:] != b"\n":
                yield from self._flush()
                self._skip_long_line(readline)
                continue
            line = raw.rstrip(b"\r\n")
            if first:
                if line.startswith(_BOM):
                    line = line[3:]
                if not line.strip():
                    self.add("NEM12-W003", "blank line")
                    continue
                first = False
                if line[:3] not in _RECORDS:
                    self.add(
                        "NEM12-E002",
                        "not an MDFF (NEM12/NEM13) file: it does not start with a record "
                        f"indicator ({_shown(line[:20])})",
                    )
                    return
            indicator = line[:3]
            if indicator == b"300" and line[3:4] == b",":
                yield from self._flush()
                self._on_300(line)
                continue
            if indicator in _RECORDS and line[3:4] in (b",", b""):
                if indicator == b"400":
                    self._on_400(line)
                    continue
                if indicator == b"500":
                    self._on_500(line)
                    continue
                if indicator == b"550":
                    self._on_550(line)
                    continue
                yield from self._flush()
                if indicator == b"200":
                    self._on_200(line)
                elif indicator == b"250":
                    self._on_250(line)
                elif indicator == b"900":
                    self._on_900(line)
                else:
                    self._on_100(line)
                continue
            if not line.strip():
                self.add("NEM12-W003", "blank line")
                continue
            if self.broken_line is not None:
                self.continuations += 1
                continue
            yield from self._flush()
            self.add("NEM12-E003", f"unknown record indicator {_shown(line[:3])}")
        yield from self._flush()
        if self.part is None or self.part.last:
            self._end_of_member()

    def _skip_long_line(self, readline: Callable[[int], bytes]) -> None:
        """Read past a line no record could fill, in pieces: memory stays bounded."""
        while (rest := readline(_MAX_LINE)) and rest[-1:] != b"\n":
            pass
        self.add("NEM12-E018", f"line longer than {_MAX_LINE:,} bytes: no record is; skipped")

    def _flush(self) -> Iterator[Record]:
        """Close whatever the previous lines left open, yielding it if it is good."""
        if self.broken_line is not None:
            self._report_broken_row()
        self.skipping_day = None
        pending = self.pending
        if pending is not None:
            self.pending = None
            day = self._finish_day(pending)
            if day is not None:
                yield day
        if self.basic is not None:
            basic, self.basic = self.basic, None
            yield basic

    def _end_of_member(self) -> None:
        if self.data_records == 0 and not (self.part and self.part.start):
            if self.lineno == 0:
                self.add("NEM12-E001", "the file is empty", line=None)
            else:
                self.add("NEM12-E001", "the file holds no 200 or 250 records", line=None)
        elif self.in_block:
            self.add("NEM12-W002", "no 900 end record at the end of the file", line=None)

    # -- blocks -----------------------------------------------------------------------------

    def _on_100(self, line: bytes) -> None:
        fields = line.split(b",")
        if self.in_block:
            self.add("NEM12-W002", "no 900 before this 100 header")
        self._start_block()
        version = fields[1].decode("latin-1").upper() if len(fields) > 1 else ""
        if version not in ("NEM12", "NEM13"):
            self.add("NEM12-E006", f"100 header says {version!r}, not NEM12 or NEM13")
            self.version = None
            return
        self.version = version
        self._check_field_count(fields, _FIELDS_100, "100", minimum=2)
        created = None
        if len(fields) > 2 and fields[2].strip():
            created = self._datetime(fields[2], "DateTime")
        texts = [decode_text(field)[0] for field in fields[3:5]] + ["", ""]
        self.reader.headers.append(Header(version, created, texts[0], texts[1], self.lineno))

    def _start_block(self) -> None:
        if self.blocks:
            self.add("NEM12-W004", f"block {self.blocks + 1} starts here")
        self.blocks += 1
        self.in_block = True
        self.ended = False
        self.stream = None
        self.bad_stream_line = None

    def _require_block(self, version: str) -> bool:
        """Open an implicit block (no 100) if needed; False when the record is the wrong kind."""
        if not self.in_block:
            self._start_block()
            self.add("NEM12-W001", f"no 100 header before this record: assuming {version}")
            self.version = version
            self.reader.headers.append(Header(version, None, "", "", 0))
        if self.version is None:
            self.version = version
        if self.version != version:
            self.add(
                "NEM12-E004",
                f"{self.version} file has a {'200' if version == 'NEM12' else '250'} record",
            )
            return False
        return True

    def _on_900(self, line: bytes) -> None:
        if not self.in_block:
            self.add("NEM12-E004", "900 end record without an open block")
        self.in_block = False
        self.ended = True
        self.stream = None
        self.bad_stream_line = None
        if line.rstrip(b", ") != b"900":
            self.add("NEM12-W005", "900 record has fields")

    # -- NEM12 ------------------------------------------------------------------------------

    def _on_200(self, line: bytes) -> None:
        self.data_records += 1
        self.stream = None
        self.bad_stream_line = self.lineno
        if not self._require_block("NEM12"):
            return
        fields = line.split(b",")
        if not self._check_field_count(fields, _FIELDS_200, "200", minimum=_FIELDS_200 - 1):
            return
        texts = [self._text(field) for field in fields[1:8]]
        nmi, config, register, suffix, stream_id, serial, uom_raw = texts
        length_text = fields[8].strip()
        if not length_text.isdigit() or int(length_text) == 0 or 1440 % int(length_text):
            self.add(
                "NEM12-E005",
                f"IntervalLength {_shown(fields[8])} is not a whole number of minutes "
                "that divides 1440",
            )
            return
        length = int(length_text)
        if length not in _SPEC_INTERVALS:
            self.add("NEM12-W010", f"IntervalLength {length} is not 5, 15 or 30")
        if not nmi:
            self.add("NEM12-E005", "200 record has no NMI")
            return
        next_read = None
        if len(fields) > 9 and fields[9].strip():
            next_read = self._date(fields[9], "NextScheduledReadDate")
        self.stream = Stream(
            nmi,
            config,
            register,
            suffix,
            stream_id,
            serial,
            uom_raw,
            self._uom(uom_raw),
            length,
            next_read,
            self.lineno,
        )
        self.bad_stream_line = None
        self.reader._nmis.add(nmi)
        self.reader._streams.add((nmi, suffix))

    def _on_300(self, line: bytes) -> None:
        stream = self.stream
        if stream is None:
            self._reject_300_without_stream()
            return
        count = stream.intervals
        # The usual row, "300,date,v1..vN,quality,code,text,update,msats", is cut with a few
        # C calls: its five trailing fields from the right, its values counted by commas.
        parts = line.rsplit(b",", _FIELDS_300_TRAIL)
        if (
            len(parts) == _FIELDS_300_TRAIL + 1
            and parts[1][:1] in _QUALITY_LETTERS
            and parts[0].count(b",") == count + 1
        ):
            _, date_raw, segment = parts[0].split(b",", 2)
            trail = parts[1:]
            total = count + 7
        else:
            fields = line.split(b",")
            quality_at = count + 2
            total = len(fields)
            if not (
                total > quality_at
                and fields[quality_at][:1] in _QUALITY_LETTERS
                and fields[quality_at - 1][:1] not in _QUALITY_LETTERS
            ):
                self._reject_value_count(fields, stream)
                return
            date_raw, trail = fields[1], fields[quality_at:]
            start = len(fields[0]) + len(fields[1]) + 2
            segment = line[start : len(line) - sum(map(len, trail)) - len(trail)]
        day = self._date(date_raw, "IntervalDate")
        values = decode_segment(segment)
        text = b""
        if values is None:
            values = self._decode_slowly(segment.split(b","))
        elif self.keep_text:
            text = segment
        quality_method = trail[0].decode("latin-1")
        reason_ok, reason_code, description = self._reason(trail, 1)
        fields_ok = True
        if len(trail) < _FIELDS_300_TRAIL:
            self.add("NEM12-W006", f"300 row has {total} fields ({count + 7} expected)")
        elif len(trail) > _FIELDS_300_TRAIL:
            fields_ok = self._check_padding(trail, _FIELDS_300_TRAIL, "300")
        update_raw = trail[3] if len(trail) > 3 else b""
        update = self._datetime(update_raw, "UpdateDateTime") if update_raw else None
        msats_raw = trail[4] if len(trail) > 4 else b""
        msats = self._datetime(msats_raw, "MSATSLoadDateTime") if msats_raw else None
        # A datetime that is there but unreadable is an error like any other: skip the day.
        fields_ok = fields_ok and (update is not None or not update_raw)
        fields_ok = fields_ok and (msats is not None or not msats_raw)
        if not is_quality_method(quality_method):
            self.add("NEM12-E015", f"QualityMethod {quality_method!r} is not valid")
            fields_ok = False
        if day is None or values is None or not (reason_ok and fields_ok):
            self.skipping_day = self.lineno
            return
        whole_day = (
            ()
            if quality_method == "V"
            else (QualitySpan(1, count, quality_method, reason_code, description, self.lineno),)
        )
        record = IntervalDay(
            stream,
            day,
            values,
            quality_method,
            reason_code,
            description,
            whole_day,
            update,
            msats,
            (),
            self.lineno,
            text,
        )
        # 14 digits as they stand are the stamp; 12 digits, or spaces around, need building
        # (int() would take " 202401020300 " as a 12-digit number, older than any 14-digit one).
        if update is None:
            update_stamp = 0
        elif len(update_raw) == 14 and update_raw.isdigit():
            update_stamp = int(update_raw)
        else:
            update_stamp = stamp(update)
        self.pending = _PendingDay(stream, record, update_stamp, self.lineno)

    def _reject_300_without_stream(self) -> None:
        self.skipping_day = self.lineno
        if self.bad_stream_line is not None:
            self.add(
                "NEM12-E005",
                f"300 row skipped: its 200 record (line {self.bad_stream_line}) is malformed",
            )
        else:
            self.add("NEM12-E004", "300 row without a 200 record before it")

    def _reject_value_count(self, fields: list[bytes], stream: Stream) -> None:
        self.skipping_day = self.lineno
        found = next((i for i in range(2, len(fields)) if fields[i][:1] in _QUALITY_LETTERS), None)
        if found is None:
            # The row ends before its QualityMethod: either broken across lines (the next lines
            # are its continuation) or truncated. Which one is known when the next record starts.
            self.broken_line = self.lineno
            self.broken_values = sum(1 for field in fields[2:] if field)
            return
        self.add(
            "NEM12-E012",
            f"300 row has {found - 2} values, 200 record (line {stream.line}) says "
            f"IntervalLength {stream.interval_length} ({stream.intervals} expected)",
        )

    def _report_broken_row(self) -> None:
        line, self.broken_line = self.broken_line or 0, None
        if self.continuations:
            self.add(
                "NEM12-E016",
                f"300 row is broken across lines {line}-{line + self.continuations}",
                line=line,
            )
        else:
            self.add(
                "NEM12-E012",
                f"300 row ends after {self.broken_values} values without a QualityMethod",
                line=line,
            )
        self.continuations = 0

    def _decode_slowly(self, fields: list[bytes]) -> list[float] | None:
        decoded = decode_fields(fields)
        # One diagnostic per row and code: a row of 288 ".048"-style values is one finding.
        by_code: dict[str, list[Diagnostic]] = {}
        for problem in decoded.problems:
            by_code.setdefault(problem.code, []).append(problem)
        for code, problems in by_code.items():
            first = problems[0]
            more = f" (and {len(problems) - 1} more in this row)" if len(problems) > 1 else ""
            self.add(code, f"{first.where}: {first.message}{more}")
        return decoded.values

    def _on_400(self, line: bytes) -> None:
        pending = self.pending
        if pending is None:
            if self.skipping_day is None:
                self.add("NEM12-E004", "400 record without a 300 row before it")
            return
        if pending.b2b:
            self.add("NEM12-E004", "400 record after a 500 record")
            pending.failed = True
            return
        fields = line.split(b",")
        if not self._check_field_count(fields, _FIELDS_400, "400", minimum=4):
            pending.failed = True
            return
        count = pending.stream.intervals
        if not fields[1].isdigit() or not fields[2].isdigit():
            self.add("NEM12-E025", "400 record needs StartInterval, EndInterval and QualityMethod")
            pending.failed = True
            return
        first, last = int(fields[1]), int(fields[2])
        quality_method = fields[3].decode("latin-1")
        reason_ok, reason_code, description = self._reason(fields, 4)
        if pending.day.quality_method != "V":
            self.add(
                "NEM12-E026",
                f"400 record after a 300 row (line {pending.line}) whose QualityMethod is "
                f"{pending.day.quality_method!r}, not V",
            )
            pending.failed = True
        elif not 1 <= first <= last:
            self.add("NEM12-E025", f"400 range {first}-{last} is not a range of intervals")
            pending.failed = True
        elif last > count:
            self.add(
                "NEM12-E023",
                f"400 range {first}-{last} runs past interval {count} "
                f"(IntervalLength {pending.stream.interval_length})",
            )
            pending.failed = True
        elif quality_method[:1] == "V":
            self.add("NEM12-E024", "400 record has QualityMethod V")
            pending.failed = True
        elif not is_quality_method(quality_method) or not reason_ok:
            self.add("NEM12-E015", f"400 record has QualityMethod {quality_method!r}")
            pending.failed = True
        else:
            pending.events.append(
                QualitySpan(first, last, quality_method, reason_code, description, self.lineno)
            )

    def _on_500(self, line: bytes) -> None:
        pending = self.pending
        if pending is None:
            if self.skipping_day is None:
                self.add("NEM12-E004", "500 record without a 300 row before it")
            return
        self.erred = False
        fields = line.split(b",")
        self._check_field_count(fields, _FIELDS_500, "500", minimum=2)
        padded = [*fields, b"", b"", b"", b""]
        read_at = self._datetime(padded[3], "ReadDateTime") if padded[3].strip() else None
        if self.erred:  # a 500 that cannot be read exactly costs its day, as any error
            pending.failed = True
            return
        pending.b2b.append(
            B2BDetail(
                self._text(padded[1]),
                self._text(padded[2]),
                read_at,
                self._text(padded[4]),
                self.lineno,
            )
        )

    def _finish_day(self, pending: _PendingDay) -> IntervalDay | None:
        day = pending.day
        if pending.failed:
            return None
        if day.quality_method == "V":
            if not pending.events:
                self.add("NEM12-E020", "QualityMethod V without 400 records", line=pending.line)
                return None
            if not self._covers(pending):
                return None
            day.qualities = tuple(pending.events)
        if pending.b2b:
            day.b2b = tuple(pending.b2b)
        self._note_day(pending)
        return day

    def _covers(self, pending: _PendingDay) -> bool:
        """The 400 ranges must tile 1..N in order; say where they do not."""
        expected = 1
        for span in sorted(pending.events, key=lambda span: span.start):
            if span.start < expected:
                self.add(
                    "NEM12-E021",
                    f"400 range {span.start}-{span.end} overlaps the range before it",
                    line=span.line,
                )
                return False
            if span.start > expected:
                self.add(
                    "NEM12-E022",
                    f"400 records leave intervals {expected}-{span.start - 1} uncovered",
                    line=span.line,
                )
                return False
            expected = span.end + 1
        count = pending.stream.intervals
        if expected <= count:
            self.add(
                "NEM12-E022",
                f"400 records leave intervals {expected}-{count} uncovered",
                line=pending.events[-1].line,
            )
            return False
        pending.events.sort(key=lambda span: span.start)
        return True

    def _note_day(self, pending: _PendingDay) -> None:
        stream, day = pending.stream, pending.day
        stats = self.reader.stats
        stats.days += 1
        stats.values += len(day.values)
        here = self.member_bits | pending.line  # this member, this line
        earlier = self.reader._seen.record(
            stream.nmi, stream.suffix, day.date, here, pending.update
        )
        if earlier is None:
            return
        other = self.reader.members[earlier.line >> _MEMBER_SHIFT]
        other_line = earlier.line & ((1 << _MEMBER_SHIFT) - 1)
        where = "" if other == self.name else f" of {other}"
        if wins(Copy(pending.update, here), Copy(earlier.update, earlier.line)):
            winner, loser = f"line {pending.line}", (other, other_line)
            tie = pending.update == earlier.update
            why = "later in the file" if tie else "later UpdateDateTime"
        else:
            winner, loser = f"line {other_line}{where}", (self.name, pending.line)
            why = "later UpdateDateTime"
        self.reader.superseded.add(loser)
        self.add(
            "NEM12-W011",
            f"NMI {stream.nmi} {stream.suffix} {day.date.isoformat()} also at line "
            f"{other_line}{where}: {winner} wins ({why})",
            line=pending.line,
        )

    # -- NEM13 ------------------------------------------------------------------------------

    def _on_250(self, line: bytes) -> None:
        self.data_records += 1
        self.erred = False
        if not self._require_block("NEM13"):
            return
        fields = line.split(b",")
        if not self._check_field_count(fields, _FIELDS_250, "250", minimum=20):
            return
        padded = [*fields, b"", b"", b""]
        texts = [self._text(field) for field in padded[1:8]]
        quantity, problem = decode_one(padded[18].strip(), allow_negative=True)
        if problem is not None:
            self.add(problem.code, f"Quantity: {problem.message}")
        previous = self._register_read(padded[8], "PreviousRegisterRead")
        current = self._register_read(padded[13], "CurrentRegisterRead")
        prev_ok, prev_reason, prev_description = self._reason(padded, 11)
        cur_ok, cur_reason, cur_description = self._reason(padded, 16)
        qualities = [padded[10].decode("latin-1"), padded[15].decode("latin-1")]
        bad_quality = [q for q in qualities if q and not is_quality_method(q)]
        if bad_quality:
            self.add("NEM12-E015", f"250 record has QualityMethod {bad_quality[0]!r}")
        if not padded[14].strip():
            self.add("NEM12-E030", "250 record has no CurrentRegisterReadDateTime")
        uom_raw = self._text(padded[19])
        nmi, config, register, suffix, stream_id, serial, direction = texts
        previous_at = self._optional_datetime(padded[9], "PreviousRegisterReadDateTime")
        current_at = self._optional_datetime(padded[14], "CurrentRegisterReadDateTime")
        basic = BasicRead(
            nmi=nmi,
            nmi_configuration=config,
            register_id=register,
            suffix=suffix,
            stream_id=stream_id,
            meter_serial=serial,
            direction=direction,
            previous_register_read=previous,
            previous_read_datetime=previous_at,
            previous_quality_method=qualities[0],
            previous_reason_code=prev_reason,
            previous_reason_description=prev_description,
            current_register_read=current,
            current_read_datetime=current_at,
            current_quality_method=qualities[1],
            current_reason_code=cur_reason,
            current_reason_description=cur_description,
            quantity=quantity or 0.0,
            uom_raw=uom_raw,
            uom=self._uom(uom_raw),
            next_scheduled_read=self._date(padded[20], "NextScheduledReadDate")
            if padded[20].strip()
            else None,
            update_datetime=self._optional_datetime(padded[21], "UpdateDateTime"),
            msats_load_datetime=self._optional_datetime(padded[22], "MSATSLoadDateTime"),
            b2b=None,
            line=self.lineno,
        )
        if self.erred or bad_quality or not (prev_ok and cur_ok):
            return  # any error in the record: it is skipped, never half-read
        self.basic = basic
        self.reader.stats.basic_reads += 1
        self.reader.stats.values += 1
        self.reader._nmis.add(nmi)
        self.reader._streams.add((nmi, suffix))

    def _on_550(self, line: bytes) -> None:
        basic = self.basic
        if basic is None:
            self.add("NEM12-E004", "550 record without a 250 record before it")
            return
        if basic.b2b is not None:
            self.add("NEM12-E004", "a second 550 record for one 250 record")
            return
        fields = line.split(b",")
        if not self._check_field_count(fields, _FIELDS_550, "550", minimum=2):
            return
        texts = [self._text(field) for field in [*fields, b"", b"", b"", b""][1:5]]
        basic.b2b = BasicB2B(texts[0], texts[1], texts[2], texts[3], self.lineno)

    def _register_read(self, raw: bytes, what: str) -> float | None:
        text = raw.strip()
        if not text:
            return None
        value, problem = decode_one(text)
        if problem is not None:
            self.add(problem.code, f"{what}: {problem.message}")
        return value

    # -- fields -----------------------------------------------------------------------------

    def _check_field_count(
        self, fields: list[bytes], expected: int, record: str, minimum: int
    ) -> bool:
        """Warn about missing optional fields or padding; False (and an error) if unusable."""
        count = len(fields)
        if count < minimum:
            self.add(
                _SHORT_RECORD[record], f"{record} record has {count} fields ({expected} expected)"
            )
            return False
        if count < expected:
            self.add("NEM12-W006", f"{record} record has {count} fields ({expected} expected)")
            return True
        return count == expected or self._check_padding(fields, expected, record)

    def _check_padding(self, fields: list[bytes], expected: int, record: str) -> bool:
        """False (and an error) when the fields beyond ``expected`` are not just padding."""
        extra = fields[expected:]
        if any(field.strip() for field in extra):
            self.add(
                "NEM12-E017",
                f"{record} record has {len(fields)} fields ({expected} expected) "
                "and the extra ones are not empty",
            )
            return False
        self.add("NEM12-W005", f"{record} record padded with {len(extra)} trailing commas")
        return True

    def _reason(self, fields: list[bytes], at: int) -> tuple[bool, int | None, str]:
        """(valid, ReasonCode, ReasonDescription) from ``at``; an invalid code is reported."""
        code_text = fields[at].strip() if len(fields) > at else b""
        valid, code = parse_reason_code(code_text)
        description = self._text(fields[at + 1]) if len(fields) > at + 1 else ""
        if not valid:
            self.add("NEM12-E015", f"ReasonCode {_shown(code_text)} is not a number")
        return valid, code, description

    def _text(self, raw: bytes) -> str:
        text, was_utf8 = decode_text(raw)
        if not was_utf8:
            self.add("NEM12-W012", f"field {text!r} is not UTF-8")
        return text

    def _uom(self, raw: str) -> str:
        canonical = UOM_BY_LOWER.get(raw.strip().lower())
        if canonical is None:
            self.add("NEM12-W013", f"unknown UOM {raw!r}")
            return raw
        if canonical != raw:
            self.add("NEM12-W009", f"UOM {raw!r} read as {canonical!r}")
        return canonical

    def _date(self, raw: bytes, what: str) -> date | None:
        return self._moment(raw, what, parse_date, "a CCYYMMDD date")

    def _datetime(self, raw: bytes, what: str) -> datetime | None:
        return self._moment(raw, what, parse_datetime, "a CCYYMMDDhhmmss datetime")

    def _moment(
        self, raw: bytes, what: str, parse: Callable[[bytes], _Moment | None], shape: str
    ) -> _Moment | None:
        """Parse a date or datetime, tolerating spaces around it (W007) and reporting E010."""
        value = parse(raw)
        if value is None:
            value = parse(self._strip_spaces(raw, what))
            if value is None:
                self.add("NEM12-E010", f"{what} {_shown(raw)} is not {shape}")
        return value

    def _optional_datetime(self, raw: bytes, what: str) -> datetime | None:
        return self._datetime(raw, what) if raw.strip() else None

    def _strip_spaces(self, raw: bytes, what: str) -> bytes:
        stripped = raw.strip()
        if stripped != raw and (parse_datetime(stripped) or parse_date(stripped)):
            self.add("NEM12-W007", f"{what} {_shown(raw)} has spaces around it")
        return stripped


def _shown(raw: bytes) -> str:
    return repr(raw.decode("latin-1"))
