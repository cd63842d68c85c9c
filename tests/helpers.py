"""Shared test helpers: the example corpus and small NEM12 texts built in the test."""

from __future__ import annotations

import io
from pathlib import Path

import nem2cdr
from nem2cdr.reader import Reader

CORPUS = Path(__file__).parent / "data" / "nem12-examples"


def day_values(count: int, value: str = "1.5") -> str:
    return ",".join([value] * count)


def nem12(*rows: str, header: bool = True, end: bool = True, newline: str = "\r\n") -> bytes:
    """A NEM12 text from its rows, with a 100 header and a 900 unless told otherwise."""
    lines = list(rows)
    if header:
        lines.insert(0, "100,NEM12,202401020300,MDP1,RETAILER")
    if end:
        lines.append("900")
    return (newline.join(lines) + newline).encode()


STREAM_30 = "200,6102000001,E1B1,1,E1,N1,METER1,kWh,30,20240401"
ROW_TAIL = "A,,,20240102030000,20240102040000"


def row_300(date: str = "20240101", values: str | None = None, tail: str = ROW_TAIL) -> str:
    return f"300,{date},{values if values is not None else day_values(48)},{tail}"


def read_bytes(data: bytes, strict: bool = False) -> tuple[Reader, list[nem2cdr.Record]]:
    reader = nem2cdr.read(io.BytesIO(data), strict=strict)
    return reader, reader.records()


def codes(reader: Reader) -> list[str]:
    found = reader.diagnostics
    return [d.code for d in found.errors + found.warnings]
