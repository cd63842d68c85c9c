"""mmtlite files: ``parse`` with control and row checks, ``write`` a well-formed file.

A file is ``HDR|<CATEGORY>|<SEQUENCE>|<CREATED>|<ENV>``, detail rows, ``TRL|<COUNT>`` (see
docs/mmtlite.md). A control failure (``MMT-C...``) refuses the whole file; a row error
(``MMT-R...``) rejects its row only. Both are values, never exceptions: no input makes ``parse``
raise.

Speed (a million-row master list is the normal case): the text is decoded once and split into lines;
a line that matches its category's precompiled whole-line pattern is a good row without any
per-field work, and keeps its line as one string (its fields are split on demand). Only the other
lines are split and checked field by field, to say what is wrong. Mixed modes and duplicate keys are
looked for afterwards, over the good rows, with one set of keys.

Decisions where docs/mmtlite.md is silent:

- Values are verbatim: nothing is trimmed or case-folded (``abc123 `` is not ``ABC123``); there
  is no quoting, so a value cannot hold the delimiter.
- Category and environment are compared case-insensitively (in the name and the header) and
  reported in upper case; ``HDR`` and ``TRL`` are upper case.
- Blank lines (empty, or spaces and tabs only) are ignored and are not detail rows; a lone CR is
  not a line break. Empty trailing fields on the header and trailer lines are ignored
  (spreadsheets pad every line to the widest row).
- A ``REMOVE`` row needs only its key: its other columns may be blank (if given, they must be
  valid).
- The first good row with an action sets the file's mode: ``ALL`` (the complete list) or
  ``ADD``/``REMOVE`` (changes); rows of the other mode are errors. A file without detail rows is
  never a complete list.
- The same key again with the same action and the same data is harmless (the last row wins). With
  the same action and other data (or, for files without an action, any other data) the key is in
  conflict: every row of that key in the file is rejected, because neither version can be
  trusted. A different action is no conflict: the last one wins (``ADD`` then ``REMOVE``).
- A line that starts with ``HDR`` or ``TRL`` and the delimiter is a header or trailer, so ``HDR``
  and ``TRL`` cannot be keys (codes or dmc_ids); a header or trailer inside the file is a control
  failure.
- The creation stamp in the name need not equal the header's ``CREATED``.
- Row checks also run when a control check failed (but the header names a known category), so
  ``validate`` shows everything at once; a refused file loads nothing anyway.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import pairwise, starmap
from operator import attrgetter, eq, getitem
from pathlib import PurePath

import msgspec

from mmtlite.categories import (
    ACTIONS,
    ADD,
    ALL,
    ENVIRONMENTS,
    REMOVE,
    STAMP_PATTERN,
    Category,
    Column,
    Kind,
    find,
)
from mmtlite.codes import (
    C_BAD_HEADER,
    C_BAD_TRAILER,
    C_CATEGORY,
    C_COUNT,
    C_EMPTY,
    C_ENCODING,
    C_ENV,
    C_NAME,
    C_NAME_MISMATCH,
    C_NO_HEADER,
    C_NO_TRAILER,
    C_OTHER_ENV,
    C_SECOND_HEADER,
    C_TRAILER_NOT_LAST,
    C_UNREADABLE,
    R_ACTION,
    R_BAD_KEY,
    R_BLANK_KEY,
    R_COLUMN_COUNT,
    R_CONFLICT,
    R_INVALID,
    R_MISSING,
    R_MIXED,
)
from mmtlite.findings import Finding

DELIMITERS = ("|", ",")


class Row(msgspec.Struct, frozen=True, gc=False):
    """A good detail row. ``text`` is the line as read; ``values`` splits it on demand."""

    line: int  # 1-based; the header is line 1
    action: str | None  # ADD, REMOVE or ALL; None for categories without an action column
    key_end: int  # the key columns are text[:key_end] (a small int: no string per row kept)
    text: str
    delimiter: str

    @property
    def key(self) -> str:
        """The key columns as written at the start of the line."""
        return self.text[: self.key_end]

    @property
    def values(self) -> tuple[str, ...]:
        """The category's columns, the action not included."""
        fields = self.text.split(self.delimiter)
        return tuple(fields[:-1] if self.action is not None else fields)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field as written, the action included (what ``write`` takes)."""
        return tuple(self.text.split(self.delimiter))


class ParsedFile(msgspec.Struct):
    """What ``parse`` found. ``rows`` are the good rows in file order, duplicates included."""

    file: str
    category: str | None = None
    env: str | None = None  # BUILD, SOGL or PROD
    sequence: int | None = None
    created: str | None = None  # YYYYMMDDHHMMSS
    delimiter: str | None = None
    complete: bool = False  # an ALL file: the complete list of its category
    detail_rows: int = 0  # non-blank lines between header and trailer
    rows: list[Row] = []
    control_failures: list[Finding] = []  # each refuses the file (line None: the whole file)
    row_errors: list[Finding] = []  # each rejects its row
    # Keys named by rejected rows (when the key itself is readable): a complete list must not
    # delete them just because their row was bad.
    rejected_keys: set[str] = set()
    repeated_keys: bool = False  # some key has more than one row (see the_last_action_per_key)
    # ``rows`` ordered by their text: the rows of a key together, keys nearly ascending (a key
    # that is a prefix of another may follow it), the order a keyed table grows fastest in.
    by_key: list[Row] = []

    @property
    def refused(self) -> bool:
        """Whether a control check failed: the file must not load at all."""
        return bool(self.control_failures)

    @property
    def ok(self) -> bool:
        """Whether the whole file is good: not refused, no row rejected."""
        return not (self.control_failures or self.row_errors)


_NAME = re.compile(rf"([A-Za-z]+)_([A-Za-z]+)_({STAMP_PATTERN})\.(?:csv|txt)", re.IGNORECASE)
_STAMP = re.compile(STAMP_PATTERN)
_NUMBER = re.compile("[0-9]{1,12}")  # int() refuses very long digit strings
_HEADER_FIELDS = 5
_TRAILER_FIELDS = 2
_SHOWN = 40
_ACTION_OF = {action: action for action in ACTIONS}
# The action a fast pattern's last matching group names (``key``: a category without actions).
_ACTION_OF_GROUP = {"key": None, "add": ADD, "remove": REMOVE, "all": ALL, "bare_remove": REMOVE}


def show(value: str) -> str:
    """A value for a message: quoted, control characters visible, long ones cut."""
    if len(value) > _SHOWN:
        return repr(value[:_SHOWN]) + f"... ({len(value)} characters)"
    return repr(value)


@cache
def _value_pattern(kind: Kind) -> re.Pattern[str]:
    return re.compile(f"(?:{kind.pattern})")


def _column_pattern(column: Column, delimiter: str) -> str:
    # A negated class (free text) must not run over the delimiter into the next field; the
    # kinds' patterns use classes, never ".", so this keeps every part to its own field.
    pattern = column.kind.pattern.replace("[^", "[^" + re.escape(delimiter))
    return f"(?:{pattern})" + ("" if column.required else "?")


@cache
def _fast_pattern(category: Category, delimiter: str) -> re.Pattern[str]:
    """One pattern for a whole good line (no line starts with HDR or TRL and a delimiter).

    Group ``key`` is the key; for categories with actions, the last group that matched names
    the action (``bare_remove``: a ``REMOVE`` with nothing but its key, the usual form of a
    removal).
    """
    d = re.escape(delimiter)
    width = len(category.key)
    key = d.join(_column_pattern(column, delimiter) for column in category.columns[:width])
    rest = [_column_pattern(column, delimiter) for column in category.columns[width:]]
    if category.has_action:
        rest.append("(?:(?P<add>ADD)|(?P<remove>REMOVE)|(?P<all>ALL))")
    tail = "".join(d + part for part in rest)
    if category.has_action:
        bare_remove = d * (len(category.columns) - width) + "(?P<bare_remove>REMOVE)"
        tail = f"(?:{tail}|{d}{bare_remove})"
    return re.compile(f"(?!(?:HDR|TRL){d})(?P<key>{key}){tail}\\Z")


def parse(
    source: str | os.PathLike[str] | bytes | bytearray,
    name: str | None = None,
    *,
    env: str | None = None,
) -> ParsedFile:
    """Read and check one file: a path, or its bytes with its ``name``.

    ``name`` is the file name the checks use (the path's own name by default). ``env``, when
    given, is the environment the file must be for (``MMT-C015`` otherwise). A ``bytearray`` is
    consumed (emptied once decoded) to keep big files' peak memory down.
    """
    if env is not None and env.upper() not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env!r}: use build, sogl or prod")
    if isinstance(source, bytes | bytearray):
        if name is None:
            raise TypeError("parse(bytes) needs the file's name")
        parser = _Parser(name, env)
        return parser.run(parser.split(source))
    parser = _Parser(name if name is not None else os.fspath(source), env)
    data = read_bytes(source)
    if isinstance(data, str):
        parser.fail(C_UNREADABLE, data)
        return parser.result()
    return parser.run(parser.split(data))


def read_bytes(path: str | os.PathLike[str], limit: int | None = None) -> bytearray | str:
    """A file's bytes in a ``bytearray`` that ``parse`` may consume, or why it cannot be read
    (the message of ``MMT-C001``): not a regular file (a folder, a FIFO, a device: opened
    without blocking and never read), or more than ``limit`` bytes (never read either). The
    bytes are read into one buffer of the file's size: no copy while reading."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except IsADirectoryError:
        return "cannot read the file: it is a folder"
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    info = os.fstat(fd)
    why = _not_readable(info, limit)
    if why:
        os.close(fd)
        return why
    with open(fd, "rb", buffering=0) as file:
        try:
            return _read_whole(file, info.st_size, limit)
        except OSError as exc:
            return f"cannot read the file: {exc.strerror or exc}"


def _not_readable(info: os.stat_result, limit: int | None) -> str:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return "cannot read the file: it is a folder"
    if not stat.S_ISREG(mode):
        kind = "a FIFO (pipe)" if stat.S_ISFIFO(mode) else "a device or a socket"
        return f"cannot read the file: it is {kind}, not a regular file"
    if limit is not None and info.st_size > limit:
        return f"the file is {info.st_size:,} bytes, more than the limit of {limit:,} (--max-size)"
    return ""


def _read_whole(file: io.RawIOBase, size: int, limit: int | None) -> bytearray | str:
    data = bytearray(size)
    view = memoryview(data)
    done = 0
    while done < size and (got := file.readinto(view[done:])):
        done += got
    view.release()
    if done < size:  # it shrank while being read
        del data[done:]
        return data
    while more := file.read(1 << 22):  # it grew while being read
        data += more
        if limit is not None and len(data) > limit:
            return f"the file grew past the limit of {limit:,} bytes while being read"
    return data


def peek_header(path: str) -> tuple[str | None, int | None]:
    """The category and sequence a file's header claims (checked properly when it loads); a
    file that is not a regular one is never read (a FIFO would block)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None, None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None, None
    with open(fd, "rb", buffering=0) as file:
        try:
            first = file.read(1024).split(b"\n", 1)[0]
        except OSError:
            return None, None
    text = first.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace").rstrip("\r")
    fields = text.split(text[3:4] or "|")
    if len(fields) < 3 or fields[0] != "HDR":
        return None, None
    spec = find(fields[1])
    sequence = int(fields[2]) if _NUMBER.fullmatch(fields[2]) else None
    return (spec.name if spec else None), sequence


def the_last_action_per_key(rows: Iterable[Row]) -> list[Row]:
    """The last row of every key (within one file the last action wins), in first-seen order."""
    return list({row.key: row for row in rows}.values())


def write(
    category: str,
    env: str,
    sequence: int,
    created: str,
    rows: Iterable[Sequence[str]],
    delimiter: str = "|",
) -> bytes:
    """A well-formed file: header, ``rows`` (every field, the action included), trailer.

    Values are written as given (``parse`` then says whether they are valid); a value that would
    break the format (the delimiter, a line break) or a row of the wrong width is the caller's
    mistake and raises ``ValueError``.
    """
    spec = find(category)
    if spec is None:
        raise ValueError(f"unknown category {category!r}")
    if env.upper() not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env!r}")
    if delimiter not in DELIMITERS:
        raise ValueError(f"delimiter must be '|' or ',', not {delimiter!r}")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 < sequence < 10**12:
        raise ValueError(f"sequence must be a positive whole number, not {sequence!r}")
    if not _STAMP.fullmatch(created):
        raise ValueError(f"created must be YYYYMMDDHHMMSS, not {created!r}")
    header = delimiter.join(("HDR", spec.name, str(sequence), created, env.upper()))
    rows = list(rows)
    body = "\n".join(map(delimiter.join, rows))
    # Checked on the whole body at once (a hundred thousand rows need no Python call each):
    # every row has its width, so any delimiter or line break beyond the ones joined in is in a
    # value; no line starts with a header or trailer marker. A failure is then found row by row.
    if not (
        set(map(len, rows)) <= {spec.width}
        and body.count(delimiter) == (spec.width - 1) * len(rows)
        and body.count("\n") == max(len(rows) - 1, 0)
        and "\r" not in body
        and f"\nHDR{delimiter}" not in f"\n{body}"
        and f"\nTRL{delimiter}" not in f"\n{body}"
    ):
        _refuse(spec.width, rows, delimiter)
    return f"{header}\n{body}{chr(10) if rows else ''}TRL{delimiter}{len(rows)}\n".encode()


def _refuse(width: int, rows: list[Sequence[str]], delimiter: str) -> None:
    """Raise ``ValueError`` for the first row ``write`` cannot write."""
    separators = width - 1
    markers = ("HDR" + delimiter, "TRL" + delimiter)
    for number, row in enumerate(rows, 1):
        text = delimiter.join(row)
        if len(row) != width or text.count(delimiter) != separators:
            raise ValueError(
                f"row {number}: {width} fields without {delimiter!r} expected, got {row!r}"
            )
        if "\n" in text or "\r" in text:
            raise ValueError(f"row {number}: a value holds a line break: {row!r}")
        if text.startswith(markers):
            raise ValueError(f"row {number}: a key HDR or TRL would read as a header or trailer")
    raise AssertionError("unreachable: write's checks found a fault no row has")


def file_name(category: str, env: str, created: str, extension: str = "csv") -> str:
    """The name a file of ``category`` created at ``created`` (YYYYMMDDHHMMSS) carries."""
    return f"{category.upper()}_{env.upper()}_{created}.{extension}"


_TEXT = attrgetter("text")


def _has_a_repeated_key(by_key: list[Row]) -> bool:
    """Whether neighbours share a key (compared with no Python call per row)."""
    keys = map(getitem, map(_TEXT, by_key), map(slice, map(attrgetter("key_end"), by_key)))
    return any(starmap(eq, pairwise(keys)))


def _blank(line: str) -> bool:
    return not line.strip(" \t")


def _unpad(fields: list[str], wanted: int) -> list[str]:
    while len(fields) > wanted and not fields[-1]:
        fields.pop()
    return fields


class _Parser:
    """The checks of one file; collects what it finds and builds the ``ParsedFile``."""

    def __init__(self, file: str, env: str | None) -> None:
        self.parsed = ParsedFile(file)
        self.expected_env = env.upper() if env is not None else None
        self.failures: list[Finding] = []
        self.errors: list[Finding] = []
        self.name_says: tuple[str, str] | None = None
        self.check_name()

    def fail(self, code: str, message: str, line: int | None = None) -> None:
        self.failures.append(Finding(code, self.parsed.file, line, None, message))

    def reject(self, code: str, message: str, line: int, column: str | None) -> None:
        self.errors.append(Finding(code, self.parsed.file, line, column, message))

    def result(self) -> ParsedFile:
        # Reading order: the file's own problems first, then by line.
        self.failures.sort(key=lambda failure: (failure.line or 0, failure.code))
        self.parsed.control_failures = self.failures
        self.errors.sort(key=lambda error: error.line or 0)  # stable: columns keep their order
        self.parsed.row_errors = self.errors
        return self.parsed

    def check_name(self) -> None:
        base = PurePath(self.parsed.file).name
        match = _NAME.fullmatch(base)
        if match is None:
            self.fail(
                C_NAME,
                f"the name {show(base)} is not <CATEGORY>_<ENV>_<YYYYMMDDHHMMSS>.<csv|txt>",
            )
        else:
            self.name_says = (match[1].upper(), match[2].upper())

    def split(self, data: bytes | bytearray) -> list[str] | None:
        """The decoded lines (CRLF or LF), or None when the file is not UTF-8.

        A ``bytearray`` is emptied once decoded: a million-row file's bytes need not live
        beside its text and lines.
        """
        text = self.decode(data)
        if isinstance(data, bytearray):
            data.clear()
        if text is None:
            return None
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        return text.split("\n")

    def run(self, lines: list[str] | None) -> ParsedFile:
        if lines is None:
            return self.result()
        last = len(lines) - 1
        while last >= 0 and _blank(lines[last]):
            last -= 1
        if last < 0:
            self.fail(C_EMPTY, "the file is empty (no header, no trailer)")
            return self.result()
        spec = self.check_header(lines[0])
        delimiter = self.parsed.delimiter
        if delimiter is None:
            return self.result()
        declared, end = self.check_trailer(lines, last, delimiter)
        if spec is not None:
            self.check_rows(spec, delimiter, lines, end)
            if declared is not None and declared != self.parsed.detail_rows:
                self.fail(
                    C_COUNT,
                    f"the trailer counts {declared} detail rows, the file has "
                    f"{self.parsed.detail_rows}",
                    last + 1,
                )
        return self.result()

    def decode(self, data: bytes | bytearray) -> str | None:
        start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        try:
            # Decoding through a memoryview: no copy of a big file's bytes for the BOM.
            return str(memoryview(data)[start:], "utf-8")
        except UnicodeDecodeError as exc:
            at = start + exc.start
            line = data.count(b"\n", 0, at) + 1
            hint = ""
            if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                hint = " (it looks like UTF-16: save it as UTF-8)"
            self.fail(
                C_ENCODING,
                f"the file is not UTF-8: byte 0x{data[at]:02X} at line {line}{hint}",
                line,
            )
            return None

    def check_header(self, line: str) -> Category | None:
        if not line.startswith("HDR"):
            self.fail(
                C_NO_HEADER,
                f"the first line is not a header HDR|<CATEGORY>|<SEQUENCE>|<CREATED>|<ENV>: "
                f"{show(line)}",
                1,
            )
            return None
        delimiter = line[3:4]
        if delimiter not in DELIMITERS:
            self.fail(C_BAD_HEADER, f"the header's delimiter must be '|' or ',': {show(line)}", 1)
            return None
        self.parsed.delimiter = delimiter
        fields = _unpad(line.split(delimiter), _HEADER_FIELDS)
        if len(fields) != _HEADER_FIELDS:
            self.fail(
                C_BAD_HEADER,
                f"the header has {len(fields)} fields, expected 5 "
                f"(HDR, category, sequence, created, environment): {show(line)}",
                1,
            )
            return None
        _, category, sequence, created, env = fields
        spec = find(category)
        if spec is None:
            self.fail(C_CATEGORY, f"unknown category {show(category)}", 1)
        else:
            self.parsed.category = spec.name
        if _NUMBER.fullmatch(sequence) and int(sequence) > 0:
            self.parsed.sequence = int(sequence)
        else:
            self.fail(
                C_BAD_HEADER, f"the sequence {show(sequence)} is not a positive whole number", 1
            )
        if _STAMP.fullmatch(created):
            self.parsed.created = created
        else:
            self.fail(C_BAD_HEADER, f"the creation time {show(created)} is not YYYYMMDDHHMMSS", 1)
        if env.isascii() and env.upper() in ENVIRONMENTS:
            self.parsed.env = env.upper()
        else:
            self.fail(C_ENV, f"unknown environment {show(env)}, expected BUILD, SOGL or PROD", 1)
        self.check_agreement()
        return spec

    def check_agreement(self) -> None:
        category, env = self.parsed.category, self.parsed.env
        if self.name_says is not None and category is not None and env is not None:
            named_category, named_env = self.name_says
            if (named_category, named_env) != (category, env):
                self.fail(
                    C_NAME_MISMATCH,
                    f"the name says {named_category} for {named_env}, "
                    f"the header {category} for {env}",
                    1,
                )
        if self.expected_env is not None and env is not None and env != self.expected_env:
            self.fail(
                C_OTHER_ENV,
                f"the file is for {env}, this is {self.expected_env}: a file is loaded only "
                "into its own environment",
                1,
            )

    def check_trailer(self, lines: list[str], last: int, delimiter: str) -> tuple[int | None, int]:
        """The trailer's count (None if unusable) and where the detail rows end."""
        line = lines[last]
        if last == 0 or not line.startswith("TRL" + delimiter):
            self.fail(
                C_NO_TRAILER,
                f"the last line is not a trailer TRL{delimiter}<COUNT>: {show(line)}",
                last + 1,
            )
            return None, last + 1
        fields = _unpad(line.split(delimiter), _TRAILER_FIELDS)
        if len(fields) != _TRAILER_FIELDS or not _NUMBER.fullmatch(fields[1]):
            self.fail(
                C_BAD_TRAILER, f"the trailer is not TRL{delimiter}<COUNT>: {show(line)}", last + 1
            )
            return None, last
        return int(fields[1]), last

    def check_rows(self, spec: Category, delimiter: str, lines: list[str], end: int) -> None:
        """Lines 2..``end``: the good rows, the row errors, the mode and the detail count."""
        # The hot loop: one pattern match and one small object per good line. Mixed modes and
        # duplicate keys are rare and looked for afterwards, over the good rows.
        match = _fast_pattern(spec, delimiter).match
        rows: list[Row] = []
        append = rows.append
        skipped = 0  # blank lines, and HDR/TRL lines (control failures)
        for number, line in enumerate(lines[1:end], 2):
            found = match(line)
            if found is not None:
                key_end = found.end("key")
                action = _ACTION_OF_GROUP[found.lastgroup or "key"]
            elif _blank(line) or self.is_marker(line, delimiter, number):
                skipped += 1
                continue
            else:
                checked = self.check_fields(spec, delimiter, line, number)
                if checked is None:
                    continue
                key_end, action = checked
            append(Row(number, action, key_end, line, delimiter))
        if spec.has_action and rows:
            actions = {row.action for row in rows}
            if ALL in actions and len(actions) > 1:
                rows = self.unmix(rows)
            self.parsed.complete = rows[0].action == ALL
        # Sorted by their text, the rows of one key lie together (they share the prefix key and
        # delimiter, which no other key has), so repeats show up as neighbours. Sorting costs
        # one list, no key strings: a set of a million keys would cost a third of the file's
        # memory again, and a loader wants this order anyway.
        by_key = sorted(rows, key=_TEXT)
        if _has_a_repeated_key(by_key):
            self.parsed.repeated_keys = True
            rows = self.check_duplicates(spec, rows)
            by_key = sorted(rows, key=_TEXT)
        self.parsed.rows = rows
        self.parsed.by_key = by_key
        self.parsed.detail_rows = max(0, end - 1) - skipped

    def unmix(self, rows: list[Row]) -> list[Row]:
        """The first row's mode (ALL, or ADD/REMOVE) holds; rows of the other mode are errors."""
        first = rows[0]
        complete = first.action == ALL
        kept = []
        for row in rows:
            if (row.action == ALL) == complete:
                kept.append(row)
            else:
                self.parsed.rejected_keys.add(row.key)
                self.reject(
                    R_MIXED,
                    f"{row.action} cannot be mixed with "
                    f"{'ALL' if complete else 'ADD/REMOVE'} (line {first.line}) in one file",
                    row.line,
                    "action",
                )
        return kept

    def check_duplicates(self, spec: Category, rows: list[Row]) -> list[Row]:
        """Reject every row of a key given twice with other data (a different action is fine)."""
        seen: dict[str, Row] = {}
        conflicts: dict[str, int] = {}  # key -> line of its first conflicting row
        kept = []
        for row in rows:
            key, action = row.key, row.action
            previous = seen.get(key)
            if previous is not None and (
                key in conflicts
                or (previous.action == action and action != REMOVE and previous.text != row.text)
            ):
                self.conflict(spec, previous, row, conflicts)
                continue
            kept.append(row)
            seen[key] = row
        self.parsed.rejected_keys.update(conflicts)
        return self.withdraw(kept, conflicts) if conflicts else kept

    def is_marker(self, line: str, delimiter: str, number: int) -> bool:
        if line.startswith("HDR" + delimiter):
            self.fail(
                C_SECOND_HEADER,
                f"a second header inside the file (two files joined?): {show(line)}",
                number,
            )
            return True
        if line.startswith("TRL" + delimiter):
            self.fail(C_TRAILER_NOT_LAST, f"a trailer before the last line: {show(line)}", number)
            return True
        return False

    def check_fields(
        self, spec: Category, delimiter: str, line: str, number: int
    ) -> tuple[int, str | None] | None:
        """Say what is wrong with a line the fast pattern refused; where its key ends and its
        action if good."""
        fields = line.split(delimiter)
        keys = len(spec.key)
        key = delimiter.join(fields[:keys])
        if len(fields) != spec.width:
            self.note_rejected_key(spec, fields, key)
            self.reject(
                R_COLUMN_COUNT,
                f"{len(fields)} fields, expected {spec.width} "
                f"({delimiter.join(spec.column_names)})",
                number,
                None,
            )
            return None
        good = True
        action = None
        if spec.has_action:
            action = _ACTION_OF.get(fields[-1])
            if action is None:
                good = False
                self.reject(
                    R_ACTION,
                    f"the action is {show(fields[-1])}, expected ADD, REMOVE or ALL",
                    number,
                    "action",
                )
        for position, (column, value) in enumerate(
            zip(spec.columns, fields[: len(spec.columns)], strict=True)
        ):
            if _value_pattern(column.kind).fullmatch(value):
                continue
            if position < keys:
                if not value or value.isspace():
                    self.reject(R_BLANK_KEY, f"the key {column.name} is blank", number, column.name)
                else:
                    self.reject(
                        R_BAD_KEY,
                        f"the key {column.name} is {show(value)}, expected {column.kind.expected}",
                        number,
                        column.name,
                    )
            elif not value:
                if not column.required or action == REMOVE:
                    continue
                self.reject(R_MISSING, f"{column.name} is blank", number, column.name)
            else:
                self.reject(
                    R_INVALID,
                    f"{column.name} is {show(value)}, expected {column.kind.expected}",
                    number,
                    column.name,
                )
            good = False
        if not good:
            self.note_rejected_key(spec, fields, key)
            return None
        return len(key), action

    def note_rejected_key(self, spec: Category, fields: list[str], key: str) -> None:
        """Remember the key of a rejected row when it is readable (see ``rejected_keys``)."""
        keys = spec.columns[: len(spec.key)]
        if len(fields) >= len(keys) and all(
            _value_pattern(column.kind).fullmatch(value)
            for column, value in zip(keys, fields, strict=False)
        ):
            self.parsed.rejected_keys.add(key)

    def conflict(self, spec: Category, previous: Row, row: Row, conflicts: dict[str, int]) -> None:
        key = previous.key
        if key in conflicts:
            self.reject(
                R_CONFLICT,
                f"the key {show(key)} has conflicting rows (line {conflicts[key]})",
                row.line,
                None,
            )
            return
        conflicts[key] = row.line
        column = None
        message = f"other data than line {previous.line}"
        for name, before, now in zip(spec.column_names, previous.fields, row.fields, strict=True):
            if before != now:
                column = name
                message = f"{name} {show(now)} here, {show(before)} at line {previous.line}"
                break
        self.reject(
            R_CONFLICT,
            f"the key {show(key)} again with other data: {message}; every row of this key is "
            "rejected",
            row.line,
            column,
        )

    def withdraw(self, rows: list[Row], conflicts: dict[str, int]) -> list[Row]:
        """Take back the good rows of keys in conflict: no version of them can be trusted."""
        kept = []
        for row in rows:
            if row.key in conflicts:
                self.reject(
                    R_CONFLICT,
                    f"the key {show(row.key)} has conflicting rows (line {conflicts[row.key]})",
                    row.line,
                    None,
                )
            else:
                kept.append(row)
        return kept
