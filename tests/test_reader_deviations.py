"""Each tolerated deviation: read without loss, with its warning; an error under strict."""

from __future__ import annotations

import pytest

from nem2cdr import IntervalDay
from tests.helpers import STREAM_30, codes, day_values, nem12, read_bytes, row_300


def only_day(data: bytes) -> tuple[list[str], IntervalDay]:
    reader, records = read_bytes(data)
    assert reader.diagnostics.ok, reader.diagnostics.errors
    [day] = records
    assert isinstance(day, IntervalDay)
    return codes(reader), day


def test_a_clean_file_has_no_diagnostics() -> None:
    found, day = only_day(nem12(STREAM_30, row_300()))
    assert found == []
    assert day.values == [1.5] * 48
    assert day.stream.nmi == "6102000001"
    assert day.date.isoformat() == "2024-01-01"
    assert [(q.start, q.end, q.quality_method) for q in day.qualities] == [(1, 48, "A")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (nem12(STREAM_30, row_300(), header=False), "NEM12-W001"),
        (nem12(STREAM_30, row_300(), end=False), "NEM12-W002"),
        (nem12(STREAM_30, "", row_300()), "NEM12-W003"),
        (nem12(STREAM_30, "   ", row_300()), "NEM12-W003"),
        (nem12(STREAM_30, row_300() + ",,,"), "NEM12-W005"),
        (nem12(STREAM_30 + ",,", row_300()), "NEM12-W005"),
        (nem12(STREAM_30, row_300(tail="A,,")), "NEM12-W006"),
        (nem12(STREAM_30, row_300(tail="A,,,20240102030000")), "NEM12-W006"),
        (nem12(STREAM_30, row_300(tail="A,,, 20240102030000,")), "NEM12-W007"),
        (nem12(STREAM_30.replace("kWh", "KWH"), row_300()), "NEM12-W009"),
    ],
)
def test_tolerated_deviation(data: bytes, code: str) -> None:
    found, day = only_day(data)
    assert code in found
    assert day.values == [1.5] * 48
    reader, _ = read_bytes(data, strict=True)
    assert not reader.diagnostics.ok
    assert code in [d.code for d in reader.diagnostics.errors]


def test_leading_space_datetime_keeps_the_time() -> None:
    _, day = only_day(nem12(STREAM_30, row_300(tail="A,,, 20240102030000,")))
    assert day.update_datetime is not None
    assert day.update_datetime.isoformat() == "2024-01-02T03:00:00"


def test_bare_fraction_is_read_exactly() -> None:
    values = ",".join([".048"] * 47 + ["1"])
    found, day = only_day(nem12(STREAM_30, row_300(values=values)))
    assert found.count("NEM12-W008") == 1  # one per row, not one per value
    assert day.values == [0.048] * 47 + [1.0]


def test_lf_crlf_and_bom_read_the_same() -> None:
    crlf = nem12(STREAM_30, row_300())
    lf = nem12(STREAM_30, row_300(), newline="\n")
    bom = b"\xef\xbb\xbf" + crlf
    days = [only_day(data)[1] for data in (crlf, lf, bom)]
    assert days[0] == days[1] == days[2]


def test_non_spec_interval_that_divides_1440() -> None:
    stream = STREAM_30.replace(",30,", ",10,")
    found, day = only_day(nem12(stream, row_300(values=day_values(144))))
    assert "NEM12-W010" in found
    assert len(day.values) == 144
    assert day.stream.interval_length == 10


def test_several_blocks_in_one_file() -> None:
    block = nem12(STREAM_30, row_300("20240101"))
    second = nem12(STREAM_30, row_300("20240102"))
    reader, days = read_bytes(block + b"\r\n" + second)
    assert "NEM12-W004" in codes(reader)
    assert [d.date.day for d in days] == [1, 2]  # type: ignore[union-attr]
    assert len(reader.headers) == 2


def test_uom_is_normalised_and_raw_kept() -> None:
    _, day = only_day(nem12(STREAM_30.replace("kWh", "KVARH"), row_300()))
    assert (day.stream.uom_raw, day.stream.uom) == ("KVARH", "kVArh")


def test_the_same_day_twice_names_both_lines_and_the_winner() -> None:
    early = row_300(values=day_values(48, "1"), tail="A,,,20240102030000,")
    late = row_300(values=day_values(48, "2"), tail="A,,,20240105030000,")
    # The later UpdateDateTime wins even when it comes first in the file.
    reader, days = read_bytes(nem12(STREAM_30, late, STREAM_30, early))
    assert len(days) == 2  # both are yielded; the reader never drops data on its own
    [warning] = reader.diagnostics.warnings
    assert warning.code == "NEM12-W011"
    assert warning.line == 5
    assert "also at line 3: line 3 wins (later UpdateDateTime)" in warning.message
    assert reader.superseded == {("<stream>", 5)}


def test_the_same_day_twice_with_equal_times_later_line_wins() -> None:
    reader, _ = read_bytes(nem12(STREAM_30, row_300(), row_300()))
    [warning] = reader.diagnostics.warnings
    assert "line 4 wins (later in the file)" in warning.message
    assert reader.superseded == {("<stream>", 3)}
