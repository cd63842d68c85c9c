"""11 cdr-full-msgpack: experiment 08's response, the same document, as MessagePack.

Numbers keep their JSON types: a decimal is a float64 (exact: it is the file's decimal) and a
whole number an integer, as any JSON-to-MessagePack conversion would do. An aggregate that
MessagePack cannot hold exactly stays 08's decimal text, as a string: one with more digits than
a float carries, or a whole number beyond 64 bits. The reader accepts any value a float carries
exactly (up to 15 significant digits, of any magnitude: ``77561993582462000`` is one), so a day
of such values sums past 2**64.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from nem2cdr_experiments.base import Experiment, register
from nem2cdr_experiments.cdr_shapes import decode_full, first_page, response, wrapped
from nem2cdr_experiments.data import Totals, UsageData

_AGGREGATE = re.compile(rb'"aggregateValue":([^,}]+)')
_FLOAT_DIGITS = 17  # shorter number texts are always a float's shortest text
_MSGPACK_INTEGERS = range(-(2**63), 2**64)  # int64 and uint64
_encode = msgspec.json.Encoder().encode


def as_msgpack(text: bytes) -> bytes:
    """The JSON document ``text`` as MessagePack, every number exactly as written."""
    return msgspec.msgpack.encode(_document(text))


def _document(text: bytes) -> dict[str, Any]:
    document: dict[str, Any] = msgspec.json.decode(text)
    reads = document["data"]["reads"]
    for read, match in zip(reads, _AGGREGATE.finditer(text), strict=True):
        written, interval = match[1], read["intervalRead"]
        value = interval["aggregateValue"]
        if len(written) >= _FLOAT_DIGITS and (
            _encode(value) != written or (isinstance(value, int) and value not in _MSGPACK_INTEGERS)
        ):
            interval["aggregateValue"] = written.decode()
    return document


def array_header(count: int) -> bytes:
    """MessagePack's header of a list of ``count`` items (fixarray, array 16, array 32)."""
    if count < 16:
        return bytes([0x90 | count])
    if count < 1 << 16:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


_READS = b"\xa5reads"  # the key "reads", before its list


@register
class CdrFullMsgpack(Experiment):
    id = "11"
    name = "cdr-full-msgpack"
    rationale = "08's exact response in a binary container (MessagePack): does binary beat text?"
    suffix = ".msgpack"
    separator = b""  # MessagePack's list items follow each other; the header counts them

    def encode(self, data: UsageData) -> bytes:
        return as_msgpack(response(data, "FULL"))

    def frame(self, totals: Totals) -> tuple[bytes, bytes]:
        empty = as_msgpack(wrapped([], totals, "FULL"))
        head, _, tail = empty.partition(_READS + b"\x90")
        return head + _READS + array_header(totals.reads), tail

    def encode_part(self, part: UsageData) -> bytes:
        reads = _document(response(part, "FULL"))["data"]["reads"]
        return msgspec.msgpack.encode(reads)[len(array_header(len(reads))) :]

    def decode(self, payload: bytes, source: str) -> UsageData:
        # Back to JSON and through 08's own decoder: proves it is 08's document, number for number.
        return decode_full(msgspec.json.encode(msgspec.msgpack.decode(payload)), source)

    def first_page(self, first: UsageData, totals: Totals, page_size: int) -> bytes | None:
        return as_msgpack(first_page(first, totals, "FULL", page_size))
