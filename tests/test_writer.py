"""The MDFF writer: exact value text, the layout of NEM12 and NEM13 records, and what it refuses."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nem2cdr.model import (
    B2BDetail,
    BasicB2B,
    BasicRead,
    Header,
    IntervalDay,
    QualitySpan,
    Stream,
)
from nem2cdr.writer import format_value, write_nem12, write_nem13

STREAM = Stream("6102000001", "E1B1", "E1", "E1", "N1", "12345678", "KWH", "kWh", 30, None, 2)
COUNT = 48
UPDATE = datetime(2024, 1, 2, 3, 4, 5)
MSATS = datetime(2024, 1, 2, 4, 0, 1)


def _day(
    values: list[float] | None = None,
    *,
    stream: Stream = STREAM,
    on: date = date(2024, 1, 1),
    quality_method: str = "A",
    reason_code: int | None = None,
    reason_description: str = "",
    qualities: tuple[QualitySpan, ...] | None = None,
    b2b: tuple[B2BDetail, ...] = (),
) -> IntervalDay:
    count = stream.intervals
    if qualities is None:
        qualities = (QualitySpan(1, count, quality_method, reason_code, reason_description, 0),)
    return IntervalDay(
        stream,
        on,
        [0.5] * count if values is None else values,
        quality_method,
        reason_code,
        reason_description,
        qualities,
        UPDATE,
        MSATS,
        b2b,
        0,
    )


def _lines(records: Iterable[IntervalDay], header: Header | None = None) -> list[str]:
    out = io.BytesIO()
    write_nem12(out, records, header)
    data = out.getvalue()
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "every line ends in CRLF"
    return data.decode("ascii").split("\r\n")[:-1]


# -- format_value --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (3.0, "3"),
        (0.1, "0.1"),
        (1.05, "1.05"),
        (10.0, "10"),
        (1e-05, "0.00001"),
        (1.5e-07, "0.00000015"),
        (1e16, "10000000000000000"),
        (1.2345e20, "123450000000000000000"),
        (-2.5, "-2.5"),
        (123456789.12345, "123456789.12345"),
    ],
)
def test_format_value_examples(value: float, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_format_value_refuses_non_finite(value: float) -> None:
    with pytest.raises(ValueError):
        format_value(value)


# The spec's NUM(15,5): up to 10 digits before the point and 5 after.
_SPEC_DECIMALS = st.decimals(
    min_value=0, max_value=Decimal("9999999999.99999"), places=5, allow_nan=False
)
# Any decimal of at most 15 significant digits, far into small and large magnitudes.
_SHORT_DECIMALS = st.builds(
    lambda digits, exponent, negative: Decimal((negative, tuple(map(int, str(digits))), exponent)),
    st.integers(0, 10**15 - 1),
    st.integers(-30, 20),
    st.booleans(),
)


@given(st.one_of(_SPEC_DECIMALS, _SHORT_DECIMALS))
def test_format_value_writes_the_decimal_back(number: Decimal) -> None:
    text = format_value(float(number))
    assert Decimal(text) == number
    assert "e" not in text and "E" not in text
    assert not text.endswith(".0")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_value_round_trips_any_float_without_exponent(value: float) -> None:
    text = format_value(value)
    assert float(text) == value
    assert Decimal(text) == Decimal(repr(value))
    assert "e" not in text and "E" not in text
    assert not text.endswith(".0")


@settings(max_examples=50)
@given(
    st.lists(
        st.one_of(
            st.floats(min_value=0, allow_nan=False, allow_infinity=False),
            st.integers(0, 10**6).map(lambda n: n / 1000),
            st.sampled_from([0.0, -0.0, 1.0, 1e-05, 1e16]),
        ),
        min_size=COUNT,
        max_size=COUNT,
    )
)
def test_a_row_of_values_is_written_as_format_value_writes_each(values: list[float]) -> None:
    row = _lines([_day(values)])[2].split(",")
    assert row[2 : 2 + COUNT] == [format_value(v) for v in values]


# -- NEM12 layout --------------------------------------------------------------------------


def test_one_day_is_header_200_300_and_900() -> None:
    header = Header("NEM12", datetime(2024, 1, 3, 6, 0), "MDP1", "RETAILER", 1)
    lines = _lines([_day([0.25] * COUNT)], header)
    assert lines == [
        "100,NEM12,202401030600,MDP1,RETAILER",
        # The normalised UOM is written, not the file's spelling.
        "200,6102000001,E1B1,E1,E1,N1,12345678,kWh,30,",
        "300,20240101," + "0.25," * COUNT + "A,,,20240102030405,20240102040001",
        "900",
    ]


def test_default_header_is_nem12_from_nem2cdr_with_a_creation_time() -> None:
    fields = _lines([])[0].split(",")
    assert fields[:2] == ["100", "NEM12"]
    assert len(fields[2]) == 12 and fields[2].isdigit()
    assert fields[3:] == ["NEM2CDR", "NEM2CDR"]


def test_optional_fields_are_written_when_present() -> None:
    stream = Stream(
        "NMI0000001", "E1", "1", "E1", "N1", "M1", "kWh", "kWh", 30, date(2024, 3, 1), 0
    )
    day = _day(stream=stream, quality_method="S53", reason_code=0, reason_description="Free text")
    lines = _lines([day])
    assert lines[1].endswith(",kWh,30,20240301")
    assert lines[2].endswith(",S53,0,Free text,20240102030405,20240102040001")


def test_a_variable_day_is_followed_by_its_400_records_then_its_500_records() -> None:
    spans = (
        QualitySpan(1, 10, "A", None, "", 0),
        QualitySpan(11, 20, "S53", 79, "", 0),
        QualitySpan(21, COUNT, "F14", 76, "Communications Fault", 0),
    )
    b2b = (
        B2BDetail("S", "1234567890", datetime(2024, 1, 1, 11, 30), "012345", 0),
        B2BDetail("N", "", None, "", 0),
    )
    lines = _lines([_day(quality_method="V", qualities=spans, b2b=b2b)])
    assert lines[2].endswith(",V,,,20240102030405,20240102040001")
    assert lines[3:-1] == [
        "400,1,10,A,,",
        "400,11,20,S53,79,",
        "400,21,48,F14,76,Communications Fault",
        "500,S,1234567890,20240101113000,012345",
        "500,N,,,",
    ]


def test_a_whole_day_flag_has_no_400_records() -> None:
    lines = _lines([_day(quality_method="E52")])
    assert [line[:3] for line in lines] == ["100", "200", "300", "900"]


def test_a_200_is_written_when_the_stream_changes_by_value() -> None:
    same = Stream(*(getattr(STREAM, f) for f in STREAM.__struct_fields__))  # equal, not identical
    other = Stream("6102000001", "E1B1", "B1", "B1", "N2", "12345678", "kWh", "kWh", 15, None, 9)
    records = [
        _day(on=date(2024, 1, 1)),
        _day(stream=same, on=date(2024, 1, 2)),
        _day(stream=other, on=date(2024, 1, 1)),
        _day(on=date(2024, 1, 3)),
    ]
    indicators = [line[:3] for line in _lines(records)]
    assert indicators == ["100", "200", "300", "300", "200", "300", "200", "300", "900"]
    assert len(_lines(records)[5].split(",")) == 96 + 7


# -- what no valid file can hold ------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        _day([1.0] * (COUNT - 1)),
        _day([1.0] * (COUNT - 1) + [-0.5]),
        _day([1.0] * (COUNT - 1) + [math.nan]),
        _day([1.0] * (COUNT - 1) + [math.inf]),
        _day(reason_description="a, b"),
        _day(quality_method="V", qualities=()),
        _day(quality_method="V", qualities=(QualitySpan(1, 40, "A", None, "", 0),)),
        _day(
            quality_method="V",
            qualities=(QualitySpan(1, 20, "A", None, "", 0), QualitySpan(22, 48, "A", None, "", 0)),
        ),
        _day(quality_method="V", qualities=(QualitySpan(1, 49, "A", None, "", 0),)),
    ],
    ids=["short", "negative", "nan", "inf", "comma", "no-spans", "gap-end", "gap", "past-end"],
)
def test_data_no_valid_file_can_hold_is_refused(day: IntervalDay) -> None:
    with pytest.raises(ValueError):
        write_nem12(io.BytesIO(), [day])


def test_a_nem13_header_is_refused_by_the_nem12_writer() -> None:
    with pytest.raises(ValueError):
        write_nem12(io.BytesIO(), [], Header("NEM13", None, "A", "B", 1))


# -- NEM13 ---------------------------------------------------------------------------------


def _basic_read(b2b: BasicB2B | None = None) -> BasicRead:
    """The read of the AEMO example ``Example_NEM13_consumption_data.csv``."""
    return BasicRead(
        nmi="VABC005890",
        nmi_configuration="11",
        register_id="1",
        suffix="11",
        stream_id="11",
        meter_serial="METSER123",
        direction="E",
        previous_register_read=6342.8,
        previous_read_datetime=datetime(2003, 10, 5, 9, 30, 55),
        previous_quality_method="A",
        previous_reason_code=None,
        previous_reason_description="",
        current_register_read=7654.9,
        current_read_datetime=datetime(2004, 1, 7, 10, 3, 33),
        current_quality_method="A",
        current_reason_code=None,
        current_reason_description="",
        quantity=1312.1,
        uom_raw="kWh",
        uom="kWh",
        next_scheduled_read=date(2004, 4, 7),
        update_datetime=datetime(2004, 1, 8, 10, 3, 33),
        msats_load_datetime=datetime(2004, 1, 8, 9, 11, 33),
        b2b=b2b,
        line=0,
    )


def test_nem13_writes_the_250_fields_in_the_spec_order() -> None:
    out = io.BytesIO()
    header = Header("NEM13", datetime(2004, 1, 10, 10, 30), "MDA1", "Ret1", 1)
    write_nem13(out, [_basic_read(BasicB2B("S", "SO1", "N", "", 0))], header)
    lines = out.getvalue().decode("ascii").split("\r\n")
    assert lines == [
        "100,NEM13,200401101030,MDA1,Ret1",
        "250,VABC005890,11,1,11,11,METSER123,E,6342.8,20031005093055,A,,,7654.9,"
        "20040107100333,A,,,1312.1,kWh,20040407,20040108100333,20040108091133",
        "550,S,SO1,N,",
        "900",
        "",
    ]
    assert len(lines[1].split(",")) == 23  # the indicator and 22 fields


def test_nem13_writes_missing_reads_as_empty_fields() -> None:
    read = _basic_read()
    read.previous_register_read = None
    read.previous_read_datetime = None
    read.quantity = -12.0
    out = io.BytesIO()
    write_nem13(out, [read])
    fields = out.getvalue().decode("ascii").split("\r\n")[1].split(",")
    assert fields[8:10] == ["", ""]
    assert fields[18] == "-12"
