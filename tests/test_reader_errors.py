"""Each error: a stable code on the right line, the day skipped, the rest of the file read."""

from __future__ import annotations

import pytest

from nem2cdr import IntervalDay
from tests.helpers import STREAM_30, day_values, nem12, read_bytes, row_300

GOOD_DAY = row_300("20240105")
V_DAY = row_300(tail="V,,,20240102030000,")
ROW = "A,,,20240102030000,"


@pytest.mark.parametrize(
    ("rows", "code", "line"),
    [
        ([STREAM_30, row_300(values=day_values(47))], "NEM12-E012", 3),
        ([STREAM_30, row_300(values=day_values(49))], "NEM12-E012", 3),
        ([STREAM_30, "300,20240101,1,2,3", "4,5,6", f"{day_values(42)},{ROW}"], "NEM12-E016", 3),
        ([STREAM_30, "300,20240101,1,2,3"], "NEM12-E012", 3),
        ([STREAM_30, V_DAY], "NEM12-E020", 3),
        ([STREAM_30, V_DAY, "400,1,30,A,,", "400,30,48,S53,79,"], "NEM12-E021", 5),
        ([STREAM_30, V_DAY, "400,1,20,A,,", "400,22,48,S53,79,"], "NEM12-E022", 5),
        ([STREAM_30, V_DAY, "400,1,20,A,,", "400,21,47,S53,79,"], "NEM12-E022", 5),
        ([STREAM_30, V_DAY, "400,1,20,A,,", "400,21,96,S53,79,"], "NEM12-E023", 5),
        ([STREAM_30, V_DAY, "400,1,20,A,,", "400,21,48,V,,"], "NEM12-E024", 5),
        ([STREAM_30, V_DAY, "400,x,20,A,,", "400,21,48,A,,"], "NEM12-E025", 4),
        ([STREAM_30, V_DAY, "400,20,1,A,,", "400,21,48,A,,"], "NEM12-E025", 4),
        ([STREAM_30, row_300(), "400,1,48,A,,"], "NEM12-E026", 4),
        ([STREAM_30, V_DAY, "500,O,SO1,20240101120000,", "400,1,48,A,,"], "NEM12-E004", 5),
        ([row_300()], "NEM12-E004", 2),
        ([STREAM_30, "400,1,48,A,,"], "NEM12-E004", 3),
        ([STREAM_30, row_300(values="1,x" + "," + day_values(46))], "NEM12-E011", 3),
        ([STREAM_30, row_300(values="1,-2" + "," + day_values(46))], "NEM12-E013", 3),
        ([STREAM_30, row_300(values="1,1e3" + "," + day_values(46))], "NEM12-E011", 3),
        ([STREAM_30, row_300(values="1,nan" + "," + day_values(46))], "NEM12-E011", 3),
        ([STREAM_30, row_300(values="1,,1" + "," + day_values(45))], "NEM12-E011", 3),
        ([STREAM_30, row_300(values="0.12345678901234567," + day_values(47))], "NEM12-E014", 3),
        ([STREAM_30, row_300("20240230")], "NEM12-E010", 3),
        ([STREAM_30, row_300("2024011")], "NEM12-E010", 3),
        ([STREAM_30, row_300(tail="X,,,20240102030000,")], "NEM12-E012", 3),
        ([STREAM_30, row_300(tail="A9,,,20240102030000,")], "NEM12-E015", 3),
        ([STREAM_30, row_300(tail="S53,xx,,20240102030000,")], "NEM12-E015", 3),
        ([STREAM_30, row_300(tail="A,,,2024010203,")], "NEM12-E010", 3),
        ([STREAM_30, row_300(tail="A,,,20240102030000,,extra")], "NEM12-E017", 3),
        ([STREAM_30.replace(",30,", ",7,"), row_300()], "NEM12-E005", 2),
        ([STREAM_30, row_300("20240101"), "500,O,SO1,2024,"], "NEM12-E010", 4),
        ([STREAM_30, row_300("20240101"), "500"], "NEM12-E031", 4),
    ],
)
def test_error(rows: list[str], code: str, line: int) -> None:
    reader, records = read_bytes(nem12(*rows, STREAM_30, GOOD_DAY))
    found = [(d.code, d.line) for d in reader.diagnostics.errors]
    assert (code, line) in found
    assert not reader.diagnostics.ok
    # The bad day is skipped, never guessed; the good day after it is read.
    days = [r for r in records if isinstance(r, IntervalDay)]
    assert [d.date.day for d in days] == [5]


@pytest.mark.parametrize(
    ("rows", "code", "line"),
    [
        ([STREAM_30, row_300(), "550,N,,A,"], "NEM12-E004", 4),
        (["999,hello", STREAM_30, row_300()], "NEM12-E003", 2),
    ],
)
def test_a_stray_record_is_an_error_but_costs_no_day(rows: list[str], code: str, line: int) -> None:
    reader, records = read_bytes(nem12(*rows))
    assert [(d.code, d.line) for d in reader.diagnostics.errors] == [(code, line)]
    assert [r.date.day for r in records] == [1]  # type: ignore[union-attr]


def test_a_v_day_with_good_400s_carries_per_interval_quality() -> None:
    rows = [STREAM_30, V_DAY, "400,1,20,A,,", "400,21,30,S53,79,meter fault", "400,31,48,A,,"]
    reader, [day] = read_bytes(nem12(*rows))
    assert reader.diagnostics.ok
    assert isinstance(day, IntervalDay)
    assert [(q.start, q.end, q.quality_method, q.reason_code) for q in day.qualities] == [
        (1, 20, "A", None),
        (21, 30, "S53", 79),
        (31, 48, "A", None),
    ]
    assert day.quality_at(25).reason_description == "meter fault"
    assert day.quality_at(25).flag == "S"


def test_a_malformed_200_skips_its_300s_and_says_why() -> None:
    reader, records = read_bytes(nem12(STREAM_30.replace(",30,", ",0,"), row_300(), row_300()))
    assert records == []
    messages = [(d.code, d.line) for d in reader.diagnostics.errors]
    assert messages == [("NEM12-E005", 2), ("NEM12-E005", 3), ("NEM12-E005", 4)]


@pytest.mark.parametrize(
    "data",
    [b"", b"\r\n\r\n", b"100,NEM12,202401010000,A,B\r\n900\r\n"],
)
def test_no_data_is_an_error(data: bytes) -> None:
    reader, records = read_bytes(data)
    assert records == []
    assert [d.code for d in reader.diagnostics.errors] == ["NEM12-E001"]


@pytest.mark.parametrize(
    "data",
    [b"hello,world\n", b"\x89PNG\r\n\x1a\n", b"NMI,Date,Value\n6102,2024-01-01,1.5\n"],
)
def test_not_mdff_at_all(data: bytes) -> None:
    reader, records = read_bytes(data)
    assert records == []
    assert [d.code for d in reader.diagnostics.errors] == ["NEM12-E002"]


def test_nem13_record_in_a_nem12_file() -> None:
    basic = (
        "250,6102000001,11,1,11,11,M1,E,100,20240101000000,A,,,200,20240401000000,A,,,100,kWh,,,"
    )
    reader, _ = read_bytes(nem12(basic))
    assert ("NEM12-E004", 2) in [(d.code, d.line) for d in reader.diagnostics.errors]


NEM13_HEAD = "100,NEM13,200401101030,MDA1,Ret1"
BASIC = (
    "250,VDEF005890,1141,1,11,11,MET12345,E,000888,20040108103055,A,,,000999,"
    "20040408000000,E64,,,111,kWh,20040408,20040409000000,20040109103023"
)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (("20040108103055", "2004013X103055"), "NEM12-E010"),
        (("000888", "88x"), "NEM12-E011"),
        (("20040408000000,E64", ",E64"), "NEM12-E030"),
        ((",111,kWh", ",1e3,kWh"), "NEM12-E011"),
    ],
)
def test_a_250_with_an_error_is_skipped_whole(change: tuple[str, str], code: str) -> None:
    bad = BASIC.replace(*change)
    data = (NEM13_HEAD + "\r\n" + bad + "\r\n" + BASIC + "\r\n900\r\n").encode()
    reader, records = read_bytes(data)
    assert code in [d.code for d in reader.diagnostics.errors]
    assert [r.line for r in records] == [3]  # only the good 250 is yielded


def test_a_line_longer_than_any_record_is_skipped_in_bounded_pieces() -> None:
    huge = "300,20240102," + "1," * 1_500_000 + ROW
    reader, records = read_bytes(nem12(STREAM_30, row_300(), huge, row_300("20240103")))
    assert [(d.code, d.line) for d in reader.diagnostics.errors] == [("NEM12-E018", 4)]
    assert [r.date.day for r in records] == [1, 3]  # type: ignore[union-attr]
