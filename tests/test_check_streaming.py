"""Differential property: the streaming ``check`` finds exactly what the whole-document check
of before found (tests/check_reference.py): the same codes, JSON paths, messages and order, on
hand-made and converted payloads changed at random, as bytes and as a stream that hands out a
few bytes at a time (as a pipe may). Only the wording of "not JSON" differs: the streaming
check names the byte or the read where the JSON breaks.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any, BinaryIO, cast

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nem2cdr
from nem2cdr.model import Diagnostic
from tests.check_reference import reference_check
from tests.strategies import interval_days
from tests.test_check import valid
from tests.test_check_mutations import _full

Json = Any
_EXACT = msgspec.json.Encoder(decimal_format="number")


class Trickle(io.RawIOBase):
    """A stream that gives at most ``step`` bytes a read, as a pipe may."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.data[self.at : self.at + min(self.step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self.at += len(chunk)
        return len(chunk)


def _comparable(found: list[Diagnostic]) -> list[tuple[str, str | None, str]]:
    # "not JSON" for the whole input: its wording names a byte or a read now.
    if len(found) == 1 and (found[0].code, found[0].where) == ("CDR-E001", "$"):
        return [("CDR-E001", "$", "")]
    return [(problem.code, problem.where, problem.message) for problem in found]


LISTED = 1000  # docs/cli.md: the first 1,000 findings are listed, one CDR-E020 counts the rest


def _listed(found: list[Diagnostic]) -> list[tuple[str, str | None, str]]:
    """The whole-document check's findings as streaming check reports them: the oracle lists
    them all, with no cap."""
    every = _comparable(found)
    if len(every) <= LISTED:
        return every
    more = len(every) - LISTED
    counted = f"{more:,} more problems not listed (only the first {LISTED:,} are)"
    return [*every[:LISTED], ("CDR-E020", "$", counted)]


_NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, max_value=10**6, min_value=-(10**6)
    ),
    st.sampled_from(
        [
            Decimal("24.0"),
            Decimal("2.4E+1"),
            Decimal("24.000000000001"),
            Decimal("1E-200"),
            Decimal("0.30000000000000004"),
            Decimal("30.0"),
            Decimal("-0"),
        ]
    ),
    st.floats(allow_nan=False, allow_infinity=False),
)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | _NUMBERS
    | st.text(max_size=6)
    | st.sampled_from(
        ["intervalRead", "basicRead", "2024-01-02", "2023-12-31", "sp-1", "SUBSTITUTE", "é"]
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def _places(value: Json) -> list[tuple[Json, Any]]:
    """Every (container, key) of ``value``, depth first."""
    found: list[tuple[Json, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        members = item.items() if isinstance(item, dict) else enumerate(item)
        for key, member in list(members):
            found.append((item, key))
            if isinstance(member, (dict, list)) and not (
                isinstance(member, list) and len(member) > 8
            ):
                stack.append(member)
    return found


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from(["hand", "converted"]))
    payload: Json = (
        valid() if base == "hand" else json.loads(_full(draw(interval_days())), parse_float=Decimal)
    )
    for _ in range(draw(st.integers(0, 3))):
        places = _places(payload)
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["set", "set", "delete", "null"]))
        if action == "delete" and isinstance(container, dict):
            del container[key]
        else:
            container[key] = None if action == "null" else draw(_VALUES)
    layout = draw(st.sampled_from(["compact", "spaced", "pretty", "lines"]))
    if layout == "lines":
        data = payload.get("data") if isinstance(payload, dict) else None
        reads = data.get("reads") if isinstance(data, dict) else None
        if isinstance(reads, list):
            return _textual(draw, b"\n".join(_EXACT.encode(read) for read in reads) + b"\n")
    text = _EXACT.encode(payload)
    if layout != "compact":
        text = msgspec.json.format(text, indent=2 if layout == "pretty" else 0)
    return _textual(draw, text)


def _textual(draw: st.DrawFn, text: bytes) -> bytes:
    """Changes only text can make: a key twice, an escape, a stray byte."""
    change = draw(st.sampled_from(["none", "none", "twice", "escape", "byte", "cut"]))
    if change == "twice":
        key = draw(st.sampled_from([b'"registerSuffix"', b'"quality"', b'"data"', b'"self"']))
        return text.replace(key, key + b': "X", ' + key, draw(st.integers(1, 3)))
    if change == "escape":
        return text.replace(b'"sp-', b'"\\u0073p-', 1)
    if change == "byte" and text:
        at = draw(st.integers(0, len(text) - 1))
        return text[:at] + bytes([draw(st.integers(0, 255))]) + text[at + 1 :]
    if change == "cut":
        return text[: draw(st.integers(0, len(text)))]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(payloads(), st.integers(1, 97))
def test_streaming_check_finds_what_the_whole_document_check_found(data: bytes, step: int) -> None:
    expected = _listed(reference_check(data))
    assert _comparable(nem2cdr.check(data)) == expected
    stream = cast(BinaryIO, Trickle(data, step))  # no buffer: every read() is one short read
    assert _comparable(nem2cdr.check(stream)) == expected
