"""``nem2cdr check``: is a usage payload valid, ours or anyone's?

Two layers: the official OpenAPI schema (``schema/cds_energy.json``, v1.36.0), applied by
``jsonschema`` (OpenAPI 3.0 schema objects are JSON Schema draft 4 plus extensions it ignores),
and the rules the schema cannot express (CDR-MAPPING.md, "Validity"). Numbers are read as
``Decimal`` so that ``aggregateValue`` is compared with the exact sum. Every problem names its
JSON path.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, localcontext
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from nem2cdr.exact import EXACT
from nem2cdr.model import Diagnostic

# No meter value needs more: beyond it an exact sum could need gigabytes of digits.
_MAX_EXPONENT = 100
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Json = Any  # what json.loads returns


def _problem(path: str, code: str, message: str) -> Diagnostic:
    """A finding at JSON ``path``; ``check`` names the file."""
    return Diagnostic(code, "", None, path, message)


class CheckReport(msgspec.Struct):
    """One payload's problems, as ``nem2cdr check --format json`` prints them."""

    file: str
    problems: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return not self.problems


@cache
def _validator(schema_name: str) -> Any:
    # Imported here: jsonschema takes 50 ms to import, which every convert would pay.
    import jsonschema

    text = (resources.files("nem2cdr") / "schema" / "cds_energy.json").read_text("utf-8")
    document = json.loads(text)
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    return jsonschema.Draft4Validator(schema)


def check(payload: bytes | str | os.PathLike[str], *, name: str | None = None) -> list[Diagnostic]:
    """Problems of a usage payload: a response, or JSON Lines of reads (one per line).

    ``payload`` is the JSON itself (bytes) or the path of a file holding it. Each finding
    names ``name`` as its file: by default the path, or "-" for bytes (standard input).
    """
    file = name if name is not None else "-" if isinstance(payload, bytes) else os.fspath(payload)
    return [msgspec.structs.replace(found, file=file) for found in _problems(payload)]


def _problems(payload: bytes | str | os.PathLike[str]) -> list[Diagnostic]:
    if isinstance(payload, bytes):
        data = payload
    else:
        try:
            data = Path(payload).read_bytes()
        except OSError as exc:
            return [_problem("$", "CDR-E012", f"cannot read {os.fspath(payload)}: {exc.strerror}")]
    lines = [line for line in data.splitlines() if line.strip()]
    if not lines:
        return [_problem("$", "CDR-E001", "empty: no JSON at all")]
    try:
        document = _loads(data)
    except ValueError as exc:
        if len(lines) > 1:
            return list(_check_lines(data.splitlines()))
        return [_problem("$", "CDR-E001", f"not JSON: {exc}")]
    if isinstance(document, dict) and "data" not in document and "readUType" in document:
        return list(_check_lines(data.splitlines()))  # JSON Lines holding one read
    return list(_check_response(document))


def _loads(text: bytes) -> Json:
    """Strict JSON: numbers as exact Decimals, no NaN or Infinity, nesting errors as ValueError."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _refuse_constant(name: str) -> Json:
    raise ValueError(f"{name} is not a JSON number")


def _check_lines(lines: list[bytes]) -> Iterator[Diagnostic]:
    number = -1
    for line_number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        number += 1
        path = f"$[{number}]"
        try:
            read = _loads(line)
        except ValueError as exc:
            yield _problem(path, "CDR-E001", f"line {line_number} is not JSON: {exc}")
            continue
        yield from _schema("EnergyUsageRead", read, path)
        if isinstance(read, dict):
            yield from _check_read(read, path)


def _check_response(document: Json) -> Iterator[Diagnostic]:
    yield from _schema("EnergyUsageListResponse", document, "$")
    if not isinstance(document, dict):
        return
    reads = (
        document.get("data", {}).get("reads") if isinstance(document.get("data"), dict) else None
    )
    if isinstance(reads, list):
        for index, read in enumerate(reads):
            if isinstance(read, dict):
                yield from _check_read(read, f"$.data.reads[{index}]")
        yield from _check_order(reads)
    meta = document.get("meta")
    if isinstance(meta, dict) and isinstance(reads, list):
        yield from _check_meta(meta, len(reads))


def _schema(name: str, instance: Json, root: str) -> Iterator[Diagnostic]:
    for error in _validator(name).iter_errors(instance):
        path = root + error.json_path[1:]
        yield _problem(path, "CDR-E002", error.message)


def _check_read(read: dict[str, Json], path: str) -> Iterator[Diagnostic]:
    kind = read.get("readUType")
    for other in ("basicRead", "intervalRead"):
        if other == kind and other not in read:
            yield _problem(
                f"{path}.{other}", "CDR-E003", f"readUType is {kind} but {other} is absent"
            )
        if other != kind and other in read:
            yield _problem(
                f"{path}.{other}", "CDR-E003", f"readUType is {kind!r}: no {other} allowed"
            )
    yield from _check_dates(read, path)
    interval = read.get("intervalRead")
    if kind == "intervalRead" and isinstance(interval, dict):
        yield from _check_interval(interval, f"{path}.intervalRead")


def _check_dates(read: dict[str, Json], path: str) -> Iterator[Diagnostic]:
    start = _date(read.get("readStartDate"))
    if start is None:
        yield _problem(
            f"{path}.readStartDate", "CDR-E008", "readStartDate is not a YYYY-MM-DD date"
        )
        return
    if "readEndDate" in read:
        end = _date(read["readEndDate"])
        if end is None or end < start:
            yield _problem(
                f"{path}.readEndDate",
                "CDR-E008",
                "readEndDate is not a date on or after readStartDate",
            )


def _date(value: Json) -> date | None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _check_interval(interval: dict[str, Json], path: str) -> Iterator[Diagnostic]:
    values = interval.get("intervalReads")
    raw_length = interval.get("readIntervalLength")
    length = raw_length if isinstance(raw_length, int) and not isinstance(raw_length, bool) else 0
    length_ok = length > 0
    count: int | None = None
    if length_ok and 1440 % length:
        yield _problem(f"{path}.readIntervalLength", "CDR-E004", f"{length} does not divide 1440")
    elif length_ok:
        count = 1440 // length
    if isinstance(values, list):
        if not length_ok:
            yield _problem(
                f"{path}.readIntervalLength",
                "CDR-E004",
                "intervalReads without a valid readIntervalLength",
            )
        elif count is not None and len(values) != count:
            yield _problem(
                f"{path}.intervalReads",
                "CDR-E004",
                f"{len(values)} values, readIntervalLength {length} means {count}",
            )
        yield from _check_sum(values, interval.get("aggregateValue"), path)
    qualities = interval.get("readQualities")
    if isinstance(qualities, list):
        yield from _check_ranges(qualities, count, f"{path}.readQualities")


def _check_sum(values: list[Json], aggregate: Json, path: str) -> Iterator[Diagnostic]:
    numbers = [v for v in values if isinstance(v, (int, Decimal)) and not isinstance(v, bool)]
    if len(numbers) != len(values) or not isinstance(aggregate, (int, Decimal)):
        return  # the schema has said what is wrong
    wild = [n for n in [*numbers, aggregate] if _out_of_range(n)]
    if wild:
        yield _problem(
            f"{path}.intervalReads",
            "CDR-E011",
            f"a number with exponent {Decimal(wild[0]).adjusted()}: sum not checked",
        )
        return
    with localcontext(EXACT):
        total = sum((Decimal(v) for v in numbers), Decimal(0))
    if Decimal(aggregate) != total:
        yield _problem(
            f"{path}.aggregateValue",
            "CDR-E005",
            f"aggregateValue {aggregate} but the intervalReads add up to {total}",
        )


def _out_of_range(number: int | Decimal) -> bool:
    return number != 0 and abs(Decimal(number).adjusted()) > _MAX_EXPONENT


def _check_ranges(qualities: list[Json], count: int | None, path: str) -> Iterator[Diagnostic]:
    spans = []
    for index, quality in enumerate(qualities):
        if not isinstance(quality, dict):
            continue
        start, end = quality.get("startInterval"), quality.get("endInterval")
        if not (isinstance(start, int) and isinstance(end, int)):
            continue
        top = count if count is not None else end
        if not 1 <= start <= end <= top:
            yield _problem(
                f"{path}[{index}]",
                "CDR-E006",
                f"range {start}-{end} is not inside 1..{top}" if count else f"range {start}-{end}",
            )
        spans.append((start, end, index))
    spans.sort()
    covered: int | None = None  # the furthest interval any earlier range reaches
    for start, end, index in spans:
        if covered is not None and start <= covered:
            yield _problem(
                f"{path}[{index}]", "CDR-E007", f"range starting at {start} overlaps another"
            )
        covered = end if covered is None else max(covered, end)


def _check_order(reads: list[Json]) -> Iterator[Diagnostic]:
    last: tuple[str, date] | None = None
    for index, read in enumerate(reads):
        if not isinstance(read, dict):
            continue
        point, start = read.get("servicePointId"), _date(read.get("readStartDate"))
        if not isinstance(point, str) or start is None:
            continue
        if last is not None and last[0] == point and start > last[1]:
            yield _problem(
                f"$.data.reads[{index}].readStartDate",
                "CDR-E009",
                f"{start} comes after {last[1]} of the same service point",
            )
        last = (point, start)


def _check_meta(meta: dict[str, Json], listed: int) -> Iterator[Diagnostic]:
    records, pages = meta.get("totalRecords"), meta.get("totalPages")
    if not (isinstance(records, int) and isinstance(pages, int)):
        return
    if listed > records:
        yield _problem(
            "$.meta.totalRecords",
            "CDR-E010",
            f"{listed} reads listed but totalRecords is {records}",
        )
    if (records == 0) != (pages == 0) or pages > records:
        yield _problem(
            "$.meta.totalPages", "CDR-E010", f"totalPages {pages} with totalRecords {records}"
        )
    elif pages == 1 and listed < records:
        yield _problem(
            "$.meta.totalRecords",
            "CDR-E010",
            f"the only page lists {listed} reads but totalRecords is {records}",
        )
