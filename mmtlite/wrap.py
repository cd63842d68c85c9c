"""``wrap``: plain rows (a spreadsheet's export) made into a proper inbound file.

The old upload templates did this: the team pasted rows into a spreadsheet and a button wrote the
file with its header, trailer, next sequence number and stamped name. Here the rows come from a
CSV file in UTF-8: tab, pipe or comma separated (the first of these the first line holds),
spreadsheet quoting understood, a first line naming the columns skipped, empty trailing cells
ignored. The action column can be given for every row (``action``) when the rows do not carry
it. The file written uses ``|``; input with no rows is refused (it would use up a sequence).

The sequence and the name are ``numbering``'s: two wraps in a row, or at once, never collide.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from datetime import datetime
from pathlib import Path

import msgspec

from mmtlite.arguments import DASH, printable
from mmtlite.categories import STAMP_FORMAT, Category
from mmtlite.errors import Exists, MmtliteError
from mmtlite.fileformat import ParsedFile, file_name, parse, write
from mmtlite.numbering import free_name, next_sequence, numbering
from mmtlite.paths import Place
from mmtlite.writing import write_file


class WrapError(MmtliteError):
    """The rows cannot be wrapped: unreadable, not UTF-8, or none at all."""


class Wrapped(msgspec.Struct):
    name: str
    content: bytes
    checked: ParsedFile  # the file as ``parse`` sees it: not written if it has errors
    path: str | None = None  # where it was written ("-": standard output); None: not written

    @property
    def ok(self) -> bool:
        return self.checked.ok


def wrap(
    spec: Category,
    rows_file: str | os.PathLike[str],
    place: Place,
    *,
    when: datetime,
    action: str | None = None,
    sequence: int | None = None,
    output: str | os.PathLike[str] | None = None,
) -> Wrapped:
    """The inbound file of the category ``spec`` holding the rows of ``rows_file`` (``-``: standard
    input), written into ``output`` (a folder, ``-`` for standard output; by default the
    category's inbound folder) if every row is good. Raises ``WrapError``."""
    rows = _read_rows(spec, rows_file, action)
    if output is not None and os.fspath(output) == DASH:
        with numbering(place, "wrap"):
            number = sequence if sequence is not None else next_sequence(place, spec)
        wrapped = _wrapped(spec, place.env, number, when.strftime(STAMP_FORMAT), rows)
        if wrapped.ok:
            write_file(DASH, wrapped.content)
            wrapped.path = DASH
        return wrapped
    folder = Path(output) if output is not None else place.inbound(spec.name)
    # The sequence and the name are chosen, and the file written, under one lock: two wraps at
    # once never take the same ones.
    with numbering(place, "wrap"):
        number = sequence if sequence is not None else next_sequence(place, spec)
        created, _ = free_name(folder, spec.name, place.env, when)
        wrapped = _wrapped(spec, place.env, number, created, rows)
        if not wrapped.ok:
            return wrapped
        target = folder / wrapped.name
        try:
            write_file(target, wrapped.content, exclusive=True)
        except Exists:  # not one of ours: a writer that does not take the lock
            raise WrapError(f"{target} exists already: try again in a second") from None
    wrapped.path = str(target)
    return wrapped


def _read_rows(
    spec: Category, rows_file: str | os.PathLike[str], action: str | None
) -> list[list[str]]:
    try:
        if os.fspath(rows_file) == DASH:
            data = sys.stdin.buffer.read()
        else:
            data = Path(rows_file).read_bytes()
    except OSError as exc:
        why = exc.strerror or exc
        raise WrapError(f"{printable(rows_file)}: cannot read the rows: {why}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise WrapError(
            f"{printable(rows_file)}: not UTF-8 (byte 0x{data[exc.start]:02X} at line {line}): "
            "save it as UTF-8"
        ) from exc
    rows = _rows(text, spec, action)
    if not rows:
        raise WrapError(f"{printable(rows_file)}: no rows to wrap")
    return rows


def _wrapped(
    spec: Category, env: str, sequence: int, created: str, rows: list[list[str]]
) -> Wrapped:
    name = file_name(spec.name, env, created)
    content = _write(spec, env, sequence, created, rows)
    return Wrapped(name, content, parse(content, name, env=env))


def _rows(text: str, spec: Category, action: str | None) -> list[list[str]]:
    sample = text.split("\n", 1)[0]
    # A tab or a pipe says more than a comma, which free text holds too.
    delimiter = next((d for d in ("\t", "|") if d in sample), ",")
    rows = []
    for number, fields in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter)):
        while len(fields) > spec.width - (action is not None) and fields and not fields[-1]:
            fields.pop()  # spreadsheets pad rows to the widest one
        if not any(field.strip() for field in fields):
            continue
        if number == 0 and [field.strip().lower() for field in fields] == list(
            spec.column_names[: len(fields)]
        ):
            continue  # the column names
        rows.append([*fields, action] if action is not None else fields)
    return rows


def _write(spec: Category, env: str, sequence: int, created: str, rows: list[list[str]]) -> bytes:
    """The file, or (when a row cannot even be written) a file ``parse`` will say is wrong."""
    try:
        return write(spec.name, env, sequence, created, rows)
    except ValueError:
        # A row of the wrong width or holding a '|': written as it is, so the checks name it.
        lines = [f"HDR|{spec.name}|{sequence}|{created}|{env.upper()}"]
        lines += ["|".join(" ".join(field.splitlines()) for field in row) for row in rows]
        lines.append(f"TRL|{len(rows)}")
        return ("\n".join(lines) + "\n").encode()
