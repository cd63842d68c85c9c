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

import msgspec

from nem2cdr_experiments.base import Experiment, register
from nem2cdr_experiments.cdr_shapes import decode_full, response
from nem2cdr_experiments.data import UsageData

_AGGREGATE = re.compile(rb'"aggregateValue":([^,}]+)')
_FLOAT_DIGITS = 17  # shorter number texts are always a float's shortest text
_MSGPACK_INTEGERS = range(-(2**63), 2**64)  # int64 and uint64
_encode = msgspec.json.Encoder().encode


def as_msgpack(text: bytes) -> bytes:
    """The JSON document ``text`` as MessagePack, every number exactly as written."""
    document = msgspec.json.decode(text)
    reads = document["data"]["reads"]
    for read, match in zip(reads, _AGGREGATE.finditer(text), strict=True):
        written, interval = match[1], read["intervalRead"]
        value = interval["aggregateValue"]
        if len(written) >= _FLOAT_DIGITS and (
            _encode(value) != written or (isinstance(value, int) and value not in _MSGPACK_INTEGERS)
        ):
            interval["aggregateValue"] = written.decode()
    return msgspec.msgpack.encode(document)


@register
class CdrFullMsgpack(Experiment):
    id = "11"
    name = "cdr-full-msgpack"
    rationale = "08's exact response in a binary container (MessagePack): does binary beat text?"
    suffix = ".msgpack"

    def encode(self, data: UsageData) -> bytes:
        return as_msgpack(response(data, "FULL")[0])

    def decode(self, payload: bytes, source: str) -> UsageData:
        # Back to JSON and through 08's own decoder: proves it is 08's document, number for number.
        return decode_full(msgspec.json.encode(msgspec.msgpack.decode(payload)), source)

    def pages(self, data: UsageData, page_size: int) -> list[bytes] | None:
        return [as_msgpack(page) for page in response(data, "FULL", page_size)]
