"""The whole-document ``check`` as it was before it streamed (commit 48a43db): the oracle of
the differential test. It reads the payload whole and judges every read the exact way (Decimals,
``json`` with the pairs hook), built from the same rule functions, so that a difference can only
come from streaming (the scanner, the order findings are gathered in) or from the fast path.
"""

from __future__ import annotations

from collections.abc import Iterator

from nem2cdr import checking
from nem2cdr.checking import Json
from nem2cdr.model import Diagnostic


def reference_check(data: bytes) -> list[Diagnostic]:
    lines = [line for line in data.split(b"\n") if line.strip()]
    if not lines:
        return [checking._problem("$", "CDR-E001", "empty: no JSON at all")]
    start = data.lstrip()[:1]
    if start not in checking._JSON_STARTS:
        message = f"not JSON: it starts with the byte 0x{start[0]:02x}"
        return [checking._problem("$", "CDR-E001", message)]
    if b"\n" in data.lstrip() and checking._is_read(data.lstrip().split(b"\n")[0]):
        return list(_lines(data))
    try:
        document, repeated = checking._loads(data)
    except ValueError as exc:
        if len(lines) > 1:
            return list(_lines(data))
        return [checking._problem("$", "CDR-E001", f"not JSON: {exc}")]
    if isinstance(document, dict) and "data" not in document and "readUType" in document:
        return list(_lines(data))
    return list(_response(document, repeated))


def _lines(data: bytes) -> Iterator[Diagnostic]:
    number = -1
    for line_number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        number += 1
        path = f"$[{number}]"
        try:
            read, repeated = checking._loads(line)
        except ValueError as exc:
            yield checking._problem(path, "CDR-E001", f"line {line_number} is not JSON: {exc}")
            continue
        if repeated:
            yield from checking._repeated_keys(read, path)
        yield from checking._schema("EnergyUsageRead", read, path)
        if isinstance(read, dict):
            yield from checking._check_read(read, path)


def _response(document: Json, repeated: bool) -> Iterator[Diagnostic]:
    if repeated:
        yield from checking._repeated_keys(document, "$")
    yield from checking._schema("EnergyUsageListResponse", document, "$")
    if not isinstance(document, dict):
        return
    data = document.get("data")
    reads = data.get("reads") if isinstance(data, dict) else None
    if isinstance(reads, list):
        order = checking._Order()
        for index, read in enumerate(reads):
            if isinstance(read, dict):
                yield from checking._check_read(read, f"$.data.reads[{index}]")
            order.add(index, checking._order_key(read))
        yield from order.problems
    links = document.get("links")
    links = links if isinstance(links, dict) else {}
    yield from checking._check_uris(links)
    meta = document.get("meta")
    if isinstance(meta, dict) and isinstance(reads, list):
        yield from checking._check_page(meta, links, len(reads))
