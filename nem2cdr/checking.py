"""``nem2cdr check``: is a usage payload valid, ours or anyone's?

Two layers: the official OpenAPI schema (``schema/cds_energy.json``, v1.36.0), applied by
``jsonschema-rs`` (OpenAPI 3.0 schema objects are JSON Schema draft 4 plus extensions it
ignores), and the rules the schema cannot express (docs/cdr-mapping.md, "What check adds to
the schema").
Numbers are read as ``Decimal`` so that ``aggregateValue`` is compared with the exact sum. A
member that is ``null`` counts as absent, as the standard's payload conventions say. Every
problem names its JSON path; every message shows values as JSON, clipped to a line.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext
from functools import cache
from importlib import resources
from itertools import islice
from typing import Any, BinaryIO, NamedTuple
from urllib.parse import parse_qs, urlsplit

import msgspec

from nem2cdr.exact import EXACT
from nem2cdr.fast_reads import PlainRead, plain_read, sum_holds
from nem2cdr.json_scan import MAX_VALUE, JsonError, Read, Readable, ReadsStart, scan_response
from nem2cdr.model import Diagnostic

# No meter value needs more: beyond it an exact sum could need gigabytes of digits.
_MAX_EXPONENT = 100
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The standard's largest page size ("page-size" may not exceed 1000) and its default.
MAX_PAGE_SIZE = 1000
_DEFAULT_PAGE_SIZE = 25
# An absolute URI (RFC 3986): a scheme, then only the characters a URI may hold, every "%"
# followed by two hex digits. The standard's URIString is "a valid URI"; links are fully
# qualified.
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
)
# A value shown in a message is cut to this many characters, a whole message to _MESSAGE_MAX:
# a 50 MB string in a payload must not make a 50 MB line.
_VALUE_MAX = 80
# Reading: a response is read a read at a time, JSON Lines a line at a time; a read, a line or
# what surrounds the reads may not exceed _MAX_LINE bytes, nor hold more than _MAX_MEMBERS
# values (as Decimals they would take more than check's memory bound).
_MAX_LINE = MAX_VALUE
_MAX_MEMBERS = 500_000
_READS = "$.data.reads"
_CHUNK = 1 << 16
_JSON_STARTS = frozenset(bytes([byte]) for byte in b'{["-0123456789tfn')
_MESSAGE_MAX = 300
# A file's findings: the first _MAX_PROBLEMS are listed and the rest only counted (CDR-E020
# says how many), so that a file of millions of broken reads is checked in bounded memory and
# reported in a readable length.
_MAX_PROBLEMS = 1000

Json = Any  # what json.loads returns
_NUMBERS = (int, Decimal)  # the types a JSON number is read as


class _Kept:
    """Findings in their order: the first _MAX_PROBLEMS kept, the rest counted."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self.dropped = 0

    def extend(self, found: Iterable[Diagnostic]) -> None:
        for problem in found:
            if len(self.items) < _MAX_PROBLEMS:
                self.items.append(problem)
            else:
                self.dropped += 1

    def result(self, dropped: int = 0) -> list[Diagnostic]:
        """The kept findings, and a last one saying how many more there are (``dropped``:
        those counted elsewhere)."""
        more = self.dropped + dropped
        if not more:
            return self.items
        message = f"{more:,} more problems not listed (only the first {_MAX_PROBLEMS:,} are)"
        return [*self.items, _problem("$", "CDR-E020", message)]


def _problem(path: str, code: str, message: str) -> Diagnostic:
    """A finding at JSON ``path``; ``check`` names the file."""
    return Diagnostic(code, "", None, _clip(path, _MESSAGE_MAX), _clip(message, _MESSAGE_MAX))


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    tail = f"... ({len(text):,} characters)"
    return text[: limit - len(tail)] + tail


_JSON_NUMBER = msgspec.json.Encoder(decimal_format="number")


def _json(value: Json) -> str:
    """``value`` as the payload wrote it (JSON, not a Python repr), cut to a short text."""
    if isinstance(value, str):
        head = json.dumps(value[:_VALUE_MAX], ensure_ascii=False)
        return head if len(value) <= _VALUE_MAX else f'{head[:-1]}..." ({len(value):,} characters)'
    if isinstance(value, (dict, list)):
        kind = "an object" if isinstance(value, dict) else "an array"
        text = _JSON_NUMBER.encode(value).decode() if _small(value) else ""
        return text if text and len(text) <= _VALUE_MAX else f"{kind} of {len(value):,} members"
    try:
        return _clip(_JSON_NUMBER.encode(value).decode(), _VALUE_MAX)
    except (TypeError, ValueError, OverflowError):
        return _clip(str(value), _VALUE_MAX)


def _small(value: dict[str, Json] | list[Json]) -> bool:
    """Small enough to print whole: a few scalar members."""
    members = value.values() if isinstance(value, dict) else value
    return len(value) <= 8 and not any(
        isinstance(member, (dict, list)) or (isinstance(member, str) and len(member) > 40)
        for member in members
    )


class CheckReport(msgspec.Struct):
    """One payload's problems, as ``nem2cdr check --format json`` prints them."""

    file: str
    problems: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return not self.problems


@cache
def _validator(schema_name: str) -> Any:
    # Imported here, as import nem2cdr need not pay for it: convert never checks.
    import jsonschema_rs

    text = (resources.files("nem2cdr") / "schema" / "cds_energy.json").read_text("utf-8")
    document = json.loads(text)
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    return jsonschema_rs.Draft4Validator(schema)


def check(
    payload: bytes | str | os.PathLike[str] | BinaryIO, *, name: str | None = None
) -> list[Diagnostic]:
    """Problems of a usage payload: a response, or JSON Lines of reads (one per line).

    ``payload`` is the JSON itself (bytes), the path of a file holding it, or an open binary
    stream (standard input). Each finding names ``name`` as its file: by default the path, or
    "-" for bytes or a stream. Both are streamed: a response one read at a time, JSON Lines a
    line at a time (a read or a line may take up to 64 MiB).
    """
    file = "-" if name is None else name
    if name is None and isinstance(payload, (str, os.PathLike)):
        file = os.fspath(payload)
    return [msgspec.structs.replace(found, file=file) for found in _problems(payload)]


def _problems(payload: bytes | str | os.PathLike[str] | BinaryIO) -> list[Diagnostic]:
    if isinstance(payload, bytes):
        return _check_stream(io.BytesIO(payload))
    where = os.fspath(payload) if isinstance(payload, (str, os.PathLike)) else "the input"
    try:
        if not isinstance(payload, (str, os.PathLike)):
            return _check_stream(payload)
        with open(payload, "rb") as stream:
            return _check_stream(stream)
    except OSError as exc:
        return [_problem("$", "CDR-E012", f"cannot read {where}: {exc.strerror}")]


def _check_stream(stream: BinaryIO) -> list[Diagnostic]:
    """Look at the start before reading on: a device of zeros or a binary file is no JSON, and
    JSON Lines are checked line by line in the memory of one line."""
    chunks = [stream.read(_CHUNK)]
    size = len(chunks[0])
    # Chunks in a list: adding each to a growing head would copy it over and over.
    while chunks[-1] and not chunks[-1].strip() and size < _MAX_LINE:
        chunks.append(stream.read(_CHUNK))
        size += len(chunks[-1])
    head = b"".join(chunks)
    if not head.strip():
        if size < _MAX_LINE:
            return [_problem("$", "CDR-E001", "empty: no JSON at all")]
        return [_problem("$", "CDR-E001", f"only white space in its first {_MAX_LINE >> 20} MiB")]
    start = head.lstrip()[:1]
    if start not in _JSON_STARTS:
        return [_problem("$", "CDR-E001", f"not JSON: it starts with the byte 0x{start[0]:02x}")]
    first, newline, _ = head.lstrip().partition(b"\n")
    if newline and _is_read(first):
        kept = _Kept()
        kept.extend(_check_lines(_lines(head, stream)))
        return kept.result()
    replay = _Replay(head, stream)
    try:
        return _check_response(head, replay)
    except _NotAResponse as refusal:
        # As JSON Lines after all: a document that is one read, or text that is no one JSON
        # document but several lines (each then judged on its own).
        again = replay.again()
        if again is None:
            return [refusal.problem or _problem("$", "CDR-E001", "a read too large to read")]
        found = _Kept()
        lines = 0
        for line_found, blank in _check_lines_counted(_lines(*again)):
            lines += not blank
            found.extend(line_found)
        if lines > 1 or refusal.problem is None:
            return found.result()
        return [refusal.problem]


class _NotAResponse(Exception):
    """The input is no single response: ``problem`` says why (None: it is one read)."""

    def __init__(self, problem: Diagnostic | None) -> None:
        super().__init__(problem.message if problem else "one read")
        self.problem = problem


class _Replay:
    """The stream after ``head``, kept (up to _MAX_LINE) or rewound, to be read again as lines."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.stream = stream
        self.start: int | None = None
        try:
            if stream.seekable():
                self.start = stream.tell() - len(head)
        except (OSError, ValueError):
            self.start = None
        self.kept: list[bytes] | None = [head] if self.start is None else None
        self.size = len(head)

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if self.kept is not None:
            self.size += len(data)
            self.kept.append(data)
            if self.size > _MAX_LINE:
                self.kept = None
        return data

    def again(self) -> tuple[bytes, BinaryIO] | None:
        if self.kept is not None:
            return b"".join(self.kept), self.stream
        if self.start is None:
            return None
        self.stream.seek(self.start)
        return b"", self.stream


def _is_read(line: bytes) -> bool:
    """Whether ``line`` is one read on its own: then the file is JSON Lines."""
    try:
        value, _ = _loads(line)
    except ValueError:
        return False
    return isinstance(value, dict) and "data" not in value and "readUType" in value


def _lines(head: bytes, stream: BinaryIO) -> Iterator[bytes]:
    """The lines of ``head`` and then of ``stream``, each at most _MAX_LINE bytes (a longer
    one is cut there, and so is not JSON)."""
    *whole, partial = head.split(b"\n")
    yield from whole
    while True:
        line = partial + stream.readline(_MAX_LINE - len(partial))
        partial = b""
        if not line:
            return
        if len(line) >= _MAX_LINE and not line.endswith(b"\n"):
            while (skipped := stream.readline(_CHUNK)) and not skipped.endswith(b"\n"):
                pass  # the rest of an overlong line
        yield line.rstrip(b"\n")


class _Object(dict[str, Json]):
    """A JSON object as read: its null members left out, the keys it held twice noted."""

    __slots__ = ("repeated",)

    def __init__(self, pairs: list[tuple[str, Json]]) -> None:
        # The standard's payload conventions: a field not present "will be considered
        # equivalent with a field that is present with a null value". So a null member is
        # dropped before anything looks at it: an optional field may be null, and a mandatory
        # one that is null is missing.
        super().__init__((key, value) for key, value in pairs if value is not None)
        keys = [key for key, _ in pairs]
        self.repeated = (
            sorted({k for k in keys if keys.count(k) > 1}) if len(set(keys)) < len(keys) else []
        )


def _loads(text: bytes) -> tuple[Json, bool]:
    """Strict JSON: numbers as exact Decimals, no NaN or Infinity, nesting errors as ValueError.

    Objects are ``_Object``s: null members dropped, repeated keys noted; the flag says whether
    any object held a key twice (only then is the document walked for ``_repeated_keys``).
    """
    repeated: list[_Object] = []

    def hook(pairs: list[tuple[str, Json]]) -> _Object:
        found = _Object(pairs)
        if found.repeated:
            repeated.append(found)
        return found

    _bounded(text)
    try:
        document = json.loads(
            text, parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=hook
        )
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except InvalidOperation:  # an exponent past what any decimal can hold
        raise ValueError("a number is beyond any range (its exponent)") from None
    return document, bool(repeated)


def _bounded(text: bytes) -> None:
    """Refuse what would take more memory decoded than check may use (commas count values)."""
    if text.count(b",") > _MAX_MEMBERS:
        raise ValueError(f"more than {_MAX_MEMBERS:,} values in one read or envelope")


def _refuse_constant(name: str) -> Json:
    raise ValueError(f"{name} is not a JSON number")


def _repeated_keys(
    document: Json, root: str, reads: Sequence[list[Diagnostic]] = ()
) -> Iterator[Diagnostic]:
    """Every object that holds a key twice: JSON leaves what that means open (RFC 8259, 4).

    ``reads``: what each of $.data.reads held twice, found as they were read (the document
    holds an empty array there)."""
    stack: list[tuple[Json, str]] = [(document, root)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Object):
            for key in value.repeated:
                yield _problem(f"{path}.{key}", "CDR-E013", f"the key {_json(key)} appears twice")
            members: Any = value.items()
        elif isinstance(value, list):
            members = enumerate(value)
            if path == _READS and reads:
                for found in reversed(reads):  # the order of a walk of the whole array
                    yield from found
        else:
            continue
        for key, member in members:
            if isinstance(member, (dict, list)):
                step = f"[{key}]" if isinstance(key, int) else f".{key}"
                stack.append((member, path + step))


class _ReadFindings(NamedTuple):
    """What one read has wrong, by kind (a response lists each kind for all reads at once)."""

    repeated: list[Diagnostic]
    schema: list[Diagnostic]
    rules: list[Diagnostic]
    order: tuple[str, date | None] | None  # servicePointId and readStartDate, when usable


def _read_findings(text: bytes, path: str) -> _ReadFindings:
    """The problems of one read's bytes (ValueError if they are not JSON).

    Most reads have none: the fast path decodes them typed and confirms that. A read it cannot
    confirm is decoded exactly (Decimals, nulls dropped, repeated keys noted) and judged."""
    _bounded(text)
    plain = plain_read(text)
    if plain is not None and _confirmed(plain, path):
        return _ReadFindings([], [], [], _order_key(plain.value))
    read, repeated = _loads(text)
    return _ReadFindings(
        list(_repeated_keys(read, path)) if repeated else [],
        list(_schema("EnergyUsageRead", read, path)),
        list(_check_read(read, path)) if isinstance(read, dict) else [],
        _order_key(read),
    )


def _confirmed(plain: PlainRead, path: str) -> bool:
    """Whether the fast-decoded read surely has no problem."""
    read = plain.value
    if not _validator("EnergyUsageRead").is_valid(read):
        return False
    if next(_check_read(read, path, add_up=False), None) is not None:
        return False
    interval = read.get("intervalRead")
    if read.get("readUType") != "intervalRead" or not isinstance(interval, dict):
        return True
    values = interval.get("intervalReads")
    if not isinstance(values, list):
        return True
    assert plain.reads_text is not None and plain.aggregate_text is not None
    return sum_holds(values, plain.reads_text, interval["aggregateValue"], plain.aggregate_text)


def _order_key(read: Json) -> tuple[str, date | None] | None:
    if not isinstance(read, dict) or not isinstance(read.get("servicePointId"), str):
        return None
    return read["servicePointId"], _date(read.get("readStartDate"))


def _check_lines_counted(lines: Iterable[bytes]) -> Iterator[tuple[list[Diagnostic], bool]]:
    """Each line's problems, and whether it was blank."""
    number = -1
    for line_number, line in enumerate(lines, 1):
        if not line.strip():
            yield [], True
            continue
        number += 1
        path = f"$[{number}]"
        try:
            found = _read_findings(line, path)
        except ValueError as exc:
            yield [_problem(path, "CDR-E001", f"line {line_number} is not JSON: {exc}")], False
            continue
        yield [*found.repeated, *found.schema, *found.rules], False


def _check_lines(lines: Iterable[bytes]) -> Iterator[Diagnostic]:
    for found, _ in _check_lines_counted(lines):
        yield from found


class _Reads:
    """The findings of one data.reads array, gathered a read at a time."""

    def __init__(self) -> None:
        self.count = 0
        self.repeated: list[list[Diagnostic]] = []
        self.repeated_kept = 0
        self.repeated_dropped = 0
        self.schema = _Kept()
        self.rules = _Kept()
        self.order = _Order()

    @property
    def dropped(self) -> int:
        """How many findings were counted, not kept."""
        return self.repeated_dropped + self.schema.dropped + self.rules.dropped + self.order.dropped

    def add(self, read: Read) -> None:
        path = f"{_READS}[{self.count}]"
        try:
            found = _read_findings(read.text, path)
        except ValueError as exc:
            raise _NotAResponse(
                _problem("$", "CDR-E001", f"not JSON: {exc} (in {path}{_from_byte(read)})")
            ) from None
        if found.repeated:
            kept = found.repeated[: max(0, _MAX_PROBLEMS - self.repeated_kept)]
            self.repeated_dropped += len(found.repeated) - len(kept)
            if kept:
                self.repeated.append(kept)
                self.repeated_kept += len(kept)
        self.schema.extend(found.schema)
        self.rules.extend(found.rules)
        self.order.add(self.count, found.order)
        self.count += 1


def _from_byte(read: Read) -> str:
    if read.exact:
        return f", at byte {read.offset:,}"
    return f", in the reads from byte {read.offset:,}"


def _check_response(head: bytes, stream: Readable) -> list[Diagnostic]:
    """A response, read by read; raises _NotAResponse when it is not one JSON document."""
    reads = _Reads()
    envelope = b""
    try:
        for event in scan_response(head, stream):
            if isinstance(event, ReadsStart):
                reads = _Reads()
            elif isinstance(event, Read):
                reads.add(event)
            else:
                envelope = event.text
        document, repeated = _loads(envelope)
    except JsonError as exc:
        message = f"not JSON: {exc.reason} (at byte {exc.offset:,})"
        raise _NotAResponse(_problem("$", "CDR-E001", message)) from None
    except ValueError as exc:
        raise _NotAResponse(_problem("$", "CDR-E001", f"not JSON: {exc}")) from None
    if isinstance(document, dict) and "data" not in document and "readUType" in document:
        raise _NotAResponse(None)  # JSON Lines of one read
    data = document.get("data") if isinstance(document, dict) else None
    if not (isinstance(data, dict) and isinstance(data.get("reads"), list)):
        reads = _Reads()  # a later member named data or reads replaced the array
    found = _Kept()
    if repeated:
        found.extend(_repeated_keys(document, "$", reads.repeated))
    else:
        found.extend(problem for read in reversed(reads.repeated) for problem in read)
    schema, dropped = _response_schema(document, reads.schema.items)
    found.extend(schema)
    dropped += reads.dropped
    if not isinstance(document, dict):
        return found.result(dropped)
    found.extend(reads.rules.items)
    found.extend(reads.order.problems)
    links = document.get("links")
    links = links if isinstance(links, dict) else {}
    found.extend(_check_uris(links))
    meta = document.get("meta")
    if isinstance(meta, dict) and isinstance(data, dict) and isinstance(data.get("reads"), list):
        found.extend(_check_page(meta, links, reads.count))
    return found.result(dropped)


def _response_schema(document: Json, reads: list[Diagnostic]) -> tuple[list[Diagnostic], int]:
    """The schema's findings for the whole response: those of the envelope (with an empty
    data.reads), the reads' put where a walk of the whole document finds them (the
    validator goes through an object's members in the document's order); and how many of
    the envelope's were beyond _MAX_PROBLEMS, counted only."""
    keys = list(document) if isinstance(document, dict) else []
    later = set(keys[keys.index("data") + 1 :]) if "data" in keys else set()
    errors = _schema_found("EnergyUsageListResponse", document, "$")
    found = list(islice(errors, _MAX_PROBLEMS))
    dropped = sum(1 for _ in errors)
    at = next((i for i, (steps, _) in enumerate(found) if steps and steps[0] in later), len(found))
    before, after = found[:at], found[at:]
    return [problem for _, problem in before] + reads + [problem for _, problem in after], dropped


def _schema(name: str, instance: Json, root: str) -> Iterator[Diagnostic]:
    for _, problem in _schema_found(name, instance, root):
        yield problem


def _schema_found(
    name: str, instance: Json, root: str
) -> Iterator[tuple[list[str | int], Diagnostic]]:
    """What the schema finds, each with the steps of its path."""
    for error in _validator(name).iter_errors(instance):
        steps = (
            f"[{step}]" if isinstance(step, int) else f".{step}" for step in error.instance_path
        )
        problem = _problem(root + "".join(steps), "CDR-E002", _schema_message(error))
        yield list(error.instance_path), problem


def _schema_message(error: Any) -> str:
    """What the schema found, with the values as JSON, each cut to a short text (the
    validator's own message holds the whole value, however large)."""
    import jsonschema_rs

    kind, value = error.kind, error.instance
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return f"{_json(kind.property)} is required (absent or null)"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        return f"{_json(value)} is not of type {' or '.join(map(_json, kind.types))}"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        return f"{_json(value)} is not one of {', '.join(map(_json, kind.options))}"
    return f"{_json(value)}: {_clip(error.message, _VALUE_MAX)}"


def _check_read(read: dict[str, Json], path: str, *, add_up: bool = True) -> Iterator[Diagnostic]:
    """The rules of one read; ``add_up``: whether to check aggregateValue against the sum."""
    kind = read.get("readUType")
    for other in ("basicRead", "intervalRead"):
        if other == kind and other not in read:
            yield _problem(
                f"{path}.{other}", "CDR-E003", f"readUType is {_json(kind)} but {other} is absent"
            )
        if other != kind and other in read:
            yield _problem(
                f"{path}.{other}", "CDR-E003", f"readUType is {_json(kind)}: no {other} allowed"
            )
    point = read.get("servicePointId")
    if isinstance(point, str) and not point.isascii():
        yield _problem(
            f"{path}.servicePointId",
            "CDR-E014",
            f"servicePointId {_json(point)} is not ASCII (an ASCIIString)",
        )
    days = yield from _check_dates(read, path)
    interval = read.get("intervalRead")
    if kind == "intervalRead" and isinstance(interval, dict):
        yield from _check_interval(interval, days, f"{path}.intervalRead", add_up)


def _check_dates(read: dict[str, Json], path: str) -> Generator[Diagnostic, None, int]:
    """Problems of the dates; returns how many days the read spans (1 when unsure)."""
    start = _date(read.get("readStartDate"))
    if start is None:
        yield _problem(
            f"{path}.readStartDate", "CDR-E008", "readStartDate is not a YYYY-MM-DD date"
        )
        return 1
    if "readEndDate" in read:
        end = _date(read["readEndDate"])
        if end is None or end < start:
            yield _problem(
                f"{path}.readEndDate",
                "CDR-E008",
                "readEndDate is not a date on or after readStartDate",
            )
            return 1
        return (end - start).days + 1
    return 1


def _date(value: Json) -> date | None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _check_interval(
    interval: dict[str, Json], days: int, path: str, add_up: bool
) -> Iterator[Diagnostic]:
    """``days``: the values run from midnight of readStartDate through readEndDate."""
    values = interval.get("intervalReads")
    raw_length = interval.get("readIntervalLength")
    integer = isinstance(raw_length, int) and not isinstance(raw_length, bool)
    length = raw_length if isinstance(raw_length, int) else 0
    count: int | None = None
    if integer and length <= 0:
        yield _problem(
            f"{path}.readIntervalLength",
            "CDR-E015",
            f"readIntervalLength {length} is not a positive number of minutes",
        )
    elif integer and 1440 % length:
        yield _problem(f"{path}.readIntervalLength", "CDR-E004", f"{length} does not divide 1440")
    elif integer:
        count = 1440 // length * days
    if isinstance(values, list):
        if not integer:
            yield _problem(
                f"{path}.readIntervalLength",
                "CDR-E004",
                "intervalReads without a valid readIntervalLength",
            )
        elif count is not None and len(values) != count:
            span = f" over {days} days" if days > 1 else ""
            yield _problem(
                f"{path}.intervalReads",
                "CDR-E004",
                f"{len(values)} values, readIntervalLength {length}{span} means {count}",
            )
        if add_up:
            yield from _check_sum(values, interval.get("aggregateValue"), path)
    qualities = interval.get("readQualities")
    if isinstance(qualities, list):
        yield from _check_ranges(qualities, count, f"{path}.readQualities")


def _check_sum(values: list[Json], aggregate: Json, path: str) -> Iterator[Diagnostic]:
    # type() rather than isinstance: a bool is an int to Python but no number to JSON.
    numbers = [v if type(v) is Decimal else Decimal(v) for v in values if type(v) in _NUMBERS]
    if len(numbers) != len(values) or type(aggregate) not in _NUMBERS:
        return  # the schema has said what is wrong
    total_exponent = Decimal(aggregate).adjusted() if aggregate else 0
    wild = next((n.adjusted() for n in numbers if n and abs(n.adjusted()) > _MAX_EXPONENT), None)
    if wild is None and abs(total_exponent) > _MAX_EXPONENT:
        wild = total_exponent
    if wild is not None:
        yield _problem(
            f"{path}.intervalReads",
            "CDR-E011",
            f"a number with exponent {wild}: sum not checked",
        )
        return
    with localcontext(EXACT):
        total = sum(numbers, Decimal(0))
    if Decimal(aggregate) != total:
        yield _problem(
            f"{path}.aggregateValue",
            "CDR-E005",
            f"aggregateValue {aggregate} but the intervalReads add up to {total}",
        )


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


class _Order:
    """The standard: reads "sorted by NMI in ascending order followed by readStartDate in
    descending order". So one service point's reads stand together, newest first."""

    def __init__(self) -> None:
        self.problems: list[Diagnostic] = []
        self.dropped = 0  # problems past _MAX_PROBLEMS, counted only
        self.last: tuple[str, date | None] | None = None
        self.done: set[str] = set()  # service points whose reads have ended

    def add(self, index: int, key: tuple[str, date | None] | None) -> None:
        """The read at ``index``: its servicePointId and readStartDate (None: not usable)."""
        if key is None:
            return
        point, start = key
        last = self.last
        if last is not None and last[0] != point:
            self.done.add(last[0])
            if point in self.done:
                self._found(
                    _problem(
                        f"{_READS}[{index}].servicePointId",
                        "CDR-E016",
                        f"{_json(point)} appeared before, with other service points between",
                    )
                )
        elif last is not None and start is not None and last[1] is not None and start > last[1]:
            self._found(
                _problem(
                    f"{_READS}[{index}].readStartDate",
                    "CDR-E009",
                    f"{start} comes after {last[1]} of the same service point",
                )
            )
        self.last = key

    def _found(self, problem: Diagnostic) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.dropped += 1


def _check_uris(links: dict[str, Json]) -> Iterator[Diagnostic]:
    for name, link in links.items():
        if isinstance(link, str) and not _URI.fullmatch(link):
            yield _problem(
                f"$.links.{name}", "CDR-E018", f"{_json(link)} is not an absolute URI (URIString)"
            )


def _query(links: dict[str, Json], name: str) -> int | None:
    """The positive integer ``name`` in the query of ``links.self``, or None."""
    self_link = links.get("self")
    if not isinstance(self_link, str):
        return None
    try:
        [text] = parse_qs(urlsplit(self_link).query).get(name, ["x"])
    except ValueError:
        return None
    return int(text) if text.isdigit() and 0 < int(text) < 10**9 else None


def _check_page(meta: dict[str, Json], links: dict[str, Json], listed: int) -> Iterator[Diagnostic]:
    """meta against the reads listed and the page ``links.self`` asked for (the standard's
    pagination: page from 1, page-size 25 by default and at most 1000)."""
    size = _query(links, "page-size")
    limit = min(size or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    if listed > limit:
        yield _problem(
            "$.data.reads",
            "CDR-E019",
            f"{listed:,} reads on one page; the page size is at most {limit:,}",
        )
    records, pages = meta.get("totalRecords"), meta.get("totalPages")
    if not (isinstance(records, int) and isinstance(pages, int)):
        return
    if records < 0 or pages < 0:
        field = "totalRecords" if records < 0 else "totalPages"
        yield _problem(f"$.meta.{field}", "CDR-E010", f"{field} is negative")
        return
    if listed > records:
        yield _problem(
            "$.meta.totalRecords",
            "CDR-E010",
            f"{listed} reads listed but totalRecords is {records}",
        )
    # Without an explicit page-size only the bounds are sure: 1 to 1000 records a page.
    fewest, most = ((-(-records // size),) * 2) if size else (-(-records // MAX_PAGE_SIZE), records)
    if (records == 0) != (pages == 0) or not fewest <= pages <= most:
        per = f" of {size} records a page" if size else ""
        yield _problem(
            "$.meta.totalPages", "CDR-E010", f"totalPages {pages} with totalRecords {records}{per}"
        )
        return  # which links a page needs depends on a page count that is wrong
    if pages == 1 and listed < records:
        yield _problem(
            "$.meta.totalRecords",
            "CDR-E010",
            f"the only page lists {listed} reads but totalRecords is {records}",
        )
    yield from _check_links(links, _query(links, "page") or 1, pages)


def _check_links(links: dict[str, Json], page: int, pages: int) -> Iterator[Diagnostic]:
    """The standard: first and prev are "mandatory if this response is not the first page",
    next and last "mandatory if this response is not the last page"."""
    needed = [*(("first", "prev") if page > 1 else ()), *(("next", "last") if page < pages else ())]
    for name in needed:
        if name not in links:
            place = "not the first" if name in ("first", "prev") else "not the last"
            yield _problem(
                f"$.links.{name}",
                "CDR-E017",
                f"links.{name} is absent on page {page} of {pages} ({place} page)",
            )
