"""W011 names the right winner whatever form the UpdateDateTime takes (12 or 14 digits, spaces
around): the reader's verdict, ``reader.superseded`` and what ``convert`` keeps agree."""

from __future__ import annotations

import io
import json

import pytest

import nem2cdr
from tests.helpers import day_values, nem12, read_bytes, row_300

STREAM_30 = "200,6102000001,E1,1,E1,N1,METER1,kWh,30,"
OLDER = "20240101000000"  # the other copy: a day earlier than every form below


@pytest.mark.parametrize(
    "newer",
    ["20240102030000", " 20240102030000 ", "202401020300", " 202401020300 ", "202401020300  "],
    ids=["14-digits", "14-spaced", "12-digits", "12-spaced", "12-trailing-spaces"],
)
def test_the_newer_copy_wins_whatever_its_form(newer: str) -> None:
    first = row_300(values=day_values(48, "2"), tail=f"A,,,{newer},")
    second = row_300(values=day_values(48, "1"), tail=f"A,,,{OLDER},")
    data = nem12(STREAM_30, first, STREAM_30, second)
    reader, _ = read_bytes(data)
    [warning] = [d for d in reader.diagnostics.warnings if d.code == "NEM12-W011"]
    assert warning.line == 5
    assert "line 3 wins (later UpdateDateTime)" in warning.message
    assert reader.superseded == {("<stream>", 5)}
    out = io.BytesIO()
    assert nem2cdr.convert(io.BytesIO(data), out).ok
    [read] = json.loads(out.getvalue())["data"]["reads"]
    assert read["intervalRead"]["aggregateValue"] == 96  # the newer copy: 48 x 2
