"""Property: every payload ``convert`` writes passes ``check``, and changing any one field of it
in a way the standard forbids makes ``check`` fail with the code that names the rule."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

import nem2cdr
from nem2cdr import ConvertOptions, IntervalDay
from nem2cdr.writer import write_nem12
from tests.strategies import interval_days

Read = dict[str, Any]
_EXACT = msgspec.json.Encoder(decimal_format="number")


def _interval(read: Read) -> dict[str, Any]:
    interval: dict[str, Any] = read["intervalRead"]
    return interval


# name: (the change to one read, the code that must come back)
FORBIDDEN: dict[str, tuple[Callable[[Read], None], str]] = {
    "non-ascii-id": (lambda r: r.update(servicePointId=r["servicePointId"] + "é"), "CDR-E014"),
    "no-date": (lambda r: r.update(readStartDate="2024-13-01"), "CDR-E008"),
    "end-before-start": (lambda r: r.update(readEndDate="1999-01-01"), "CDR-E008"),
    "unknown-utype": (lambda r: r.update(readUType="meterRead"), "CDR-E002"),
    "null-suffix": (lambda r: r.update(registerSuffix=None), "CDR-E002"),
    "both-members": (lambda r: r.update(basicRead={"value": 1}), "CDR-E003"),
    "sum-off": (
        lambda r: _interval(r).update(aggregateValue=Decimal("0.001") + _sum(r)),
        "CDR-E005",
    ),
    "zero-length": (lambda r: _interval(r).update(readIntervalLength=0), "CDR-E015"),
    "one-value-short": (lambda r: _interval(r)["intervalReads"].pop(), "CDR-E004"),
    "range-past-the-end": (
        lambda r: _interval(r).update(
            readQualities=[{"startInterval": 1, "endInterval": 2000, "quality": "SUBSTITUTE"}]
        ),
        "CDR-E006",
    ),
}


def _sum(read: Read) -> Decimal:
    return sum((Decimal(str(v)) for v in _interval(read)["intervalReads"]), Decimal(0))


def _full(days: list[IntervalDay]) -> bytes:
    source = io.BytesIO()
    write_nem12(source, days)
    out = io.BytesIO()
    options = ConvertOptions(interval_reads="FULL")
    result = nem2cdr.convert(io.BytesIO(source.getvalue()), out, options, page=1, page_size=1000)
    assert result.ok
    return out.getvalue()


@settings(max_examples=40, deadline=None)
@given(interval_days(), st.sampled_from(sorted(FORBIDDEN)), st.data())
def test_convert_passes_check_and_one_forbidden_change_fails_it(
    days: list[IntervalDay], name: str, data: st.DataObject
) -> None:
    written = _full(days)
    assert nem2cdr.check(written) == []
    payload = json.loads(written, parse_float=Decimal)
    reads = payload["data"]["reads"]
    index = data.draw(st.integers(0, len(reads) - 1))
    change, code = FORBIDDEN[name]
    change(reads[index])
    text = _EXACT.encode(payload)  # every Decimal back as the JSON number it was
    found = {problem.code for problem in nem2cdr.check(text)}
    assert code in found, (name, found)
