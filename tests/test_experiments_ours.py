"""Our experiments (11+) and the adopted standard (08): every one gives the data back exactly."""

from __future__ import annotations

import io
import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nem2cdr
import nem2cdr_experiments as experiments
from nem2cdr.generator import generate_days
from nem2cdr.model import IntervalDay
from nem2cdr_experiments import columnar
from nem2cdr_experiments.base import REGISTRY, Experiment
from nem2cdr_experiments.data import DayRead, QualityRange, UsageData, from_days, load, totals_of
from nem2cdr_experiments.runner import first_difference
from tests.strategies import interval_days

SAMPLE = Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"
OURS = ["11", "12", "13", "14"]
ROUND_TRIPPED = ["08", *OURS]


def round_trip(experiment_id: str, data: UsageData) -> str | None:
    experiment = REGISTRY[experiment_id]
    return first_difference(data, experiment.decode(experiment.encode(data), data.source))


@pytest.fixture(scope="module")
def sample() -> UsageData:
    return load(SAMPLE)


def day(
    values: list[float],
    on: str = "2024-01-02",
    qualities: list[QualityRange] | None = None,
    suffix: str = "E1",
) -> DayRead:
    return DayRead(
        "6102000001", suffix, suffix, "M1", "kWh", 1440 // len(values), on, values, qualities or []
    )


def test_ours_are_registered_lossless_with_a_one_line_rationale() -> None:
    for experiment in experiments.experiments(OURS):
        assert isinstance(experiment, Experiment)
        assert experiment.lossless
        assert experiment.rationale and "\n" not in experiment.rationale
    names = [REGISTRY[key].name for key in OURS]
    assert names == ["cdr-full-msgpack", "columnar-int", "nem12-text", "columnar-int-delta"]


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("experiment_id", ROUND_TRIPPED)
def test_the_sample_round_trips(experiment_id: str, sample: UsageData) -> None:
    assert round_trip(experiment_id, sample) is None


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    interval=st.sampled_from([5, 15, 30]),
    nmis=st.integers(1, 3),
    days=st.integers(1, 4),
    start=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
)
def test_generated_files_round_trip(
    seed: int, interval: int, nmis: int, days: int, start: date
) -> None:
    generated = generate_days(nmis=nmis, days=days, interval=interval, start=start, seed=seed)
    data = from_days("generated", generated)
    for experiment_id in ROUND_TRIPPED:
        assert round_trip(experiment_id, data) is None, experiment_id


@settings(max_examples=40, deadline=None)
@given(interval_days())
def test_any_model_round_trips(days: list[IntervalDay]) -> None:
    data = from_days("arbitrary", days)
    for experiment_id in ROUND_TRIPPED:
        assert round_trip(experiment_id, data) is None, experiment_id


@pytest.mark.parametrize("experiment_id", ROUND_TRIPPED)
def test_a_changed_value_is_caught(experiment_id: str) -> None:
    data = UsageData("one", [day([0.5] * 48)])
    payload = REGISTRY[experiment_id].encode(data)
    other = UsageData("one", [day([0.5] * 47 + [0.25])])
    assert first_difference(other, REGISTRY[experiment_id].decode(payload, "one")) is not None


# -- 11 cdr-full-msgpack -------------------------------------------------------------------


def test_msgpack_holds_the_same_document_as_08(sample: UsageData) -> None:
    as_json = msgspec.json.decode(REGISTRY["08"].encode(sample))
    assert msgspec.msgpack.decode(REGISTRY["11"].encode(sample)) == as_json


def test_msgpack_keeps_an_aggregate_a_float_cannot_carry_as_its_decimal_text() -> None:
    # 12345678901234.5 + 0.000001 has 20 significant digits: 08 writes it as exact text.
    data = UsageData("big", [day([12345678901234.5, 0.000001] + [0.0] * 46)])
    document = msgspec.msgpack.decode(REGISTRY["11"].encode(data))
    interval = document["data"]["reads"][0]["intervalRead"]
    assert interval["aggregateValue"] == "12345678901234.500001"
    assert interval["intervalReads"][:3] == [12345678901234.5, 0.000001, 0]
    assert round_trip("11", data) is None


def test_msgpack_keeps_a_whole_aggregate_beyond_64_bits_as_its_decimal_text() -> None:
    # A value the reader accepts (15 significant digits), 48 times: more than 2**64, and more
    # digits than a float carries, so 08 writes the sum as a whole number's exact text.
    data = UsageData("huge", [day([9.99999999999999e17] * 48)])
    document = msgspec.msgpack.decode(REGISTRY["11"].encode(data))
    aggregate = document["data"]["reads"][0]["intervalRead"]["aggregateValue"]
    assert aggregate == str(999999999999999000 * 48)
    assert round_trip("11", data) is None


def test_msgpack_pages_are_the_json_pages_converted(sample: UsageData) -> None:
    totals = totals_of(sample)
    page = REGISTRY["11"].first_page(sample, totals, 1000)
    json_page = REGISTRY["08"].first_page(sample, totals, 1000)
    assert page is not None and json_page is not None
    document = msgspec.json.decode(json_page)
    assert msgspec.msgpack.decode(page) == document
    assert (len(document["data"]["reads"]), document["meta"]["totalPages"]) == (1000, 2)


# -- 12 and 14: columnar integers ----------------------------------------------------------


def registers(experiment_id: str, data: UsageData) -> list[dict[str, object]]:
    document = msgspec.json.decode(REGISTRY[experiment_id].encode(data))
    found: list[dict[str, object]] = document["data"]["registers"]
    return found


def test_the_sample_is_two_registers_of_watt_hours(sample: UsageData) -> None:
    found = registers("12", sample)
    assert [(r["registerSuffix"], r["scale"], r["dates"]) for r in found] == [
        ("B1", 3, [["2024-12-31", 731]]),
        ("E1", 3, [["2024-12-31", 731]]),
    ]
    first = sample.reads[1]  # E1 on the latest day
    assert first.suffix == "E1"
    e1_reads = found[1]["reads"]
    assert isinstance(e1_reads, list)
    assert e1_reads[0] == [round(value * 1000) for value in first.values]


def test_delta_coding_accumulates_back_to_12(sample: UsageData) -> None:
    plain, delta = registers("12", sample), registers("14", sample)
    for one, other in zip(plain, delta, strict=True):
        assert isinstance(one["reads"], list) and isinstance(other["reads"], list)
        for row, coded in zip(one["reads"], other["reads"], strict=True):
            assert list(itertools.accumulate(coded)) == row


@pytest.mark.parametrize("experiment_id", ["12", "14"])
@pytest.mark.parametrize(
    ("values", "scale"),
    [
        ([0.0] * 48, 0),
        ([1.0, 2.0, 0.5] * 16, 1),
        ([0.123456789] * 48, 9),
        ([0.1234567891] * 48, 10),  # past what decimal_places counts: counted one by one
        ([0.00001, 0.5] * 24, 5),  # 1e-05 is written in exponent form
        ([1.5e-7] * 48, 8),
        ([1234567.891] * 48, 3),
        ([123456.789, 1.5e-12] * 24, None),  # scaled past 2**50: kept as decimals
        ([1e16] * 48, None),  # a whole number past 2**50
        ([1e-23] * 48, None),  # 10**23 is not exact as a float
        ([5e-324] * 48, None),  # 1074 places
    ],
)
def test_the_scale_is_exact_or_absent(
    experiment_id: str, values: list[float], scale: int | None
) -> None:
    data = UsageData("scale", [day(values)])
    (found,) = registers(experiment_id, data)
    assert found.get("scale") == scale
    assert round_trip(experiment_id, data) is None


@st.composite
def _decimal_days(draw: st.DrawFn) -> list[list[Decimal]]:
    """Days of 48 decimals with up to 9 places and 15 significant digits (what a file holds)."""
    places = draw(st.integers(0, 9))
    largest = Decimal(10 ** (15 - places)) - 1  # scaled, below 10**15 < 2**50
    number = st.decimals(min_value=0, max_value=largest, places=places, allow_nan=False)
    return draw(st.lists(st.lists(number, min_size=48, max_size=48), min_size=1, max_size=3))


def places_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


@settings(max_examples=60, deadline=None)
@given(_decimal_days())
def test_any_decimals_scale_to_exact_integers_and_back(days: list[list[Decimal]]) -> None:
    dates = ["2024-01-03", "2024-01-02", "2024-01-01"]
    data = UsageData(
        "decimals",
        [day([float(v) for v in values], on) for values, on in zip(days, dates, strict=False)],
    )
    places = max(places_of(v) for values in days for v in values)
    for experiment_id in ("12", "14"):
        (found,) = registers(experiment_id, data)
        assert found.get("scale") == places
        assert round_trip(experiment_id, data) is None


def test_gaps_in_the_days_become_date_runs_and_qualities_keep_their_day() -> None:
    substituted = [QualityRange(3, 5, "SUBSTITUTE"), QualityRange(6, 48, "FINAL_SUBSTITUTE")]
    reads = [
        day([0.5] * 48, "2024-01-05"),
        day([0.25] * 48, "2024-01-04", substituted),
        day([0.125] * 48, "2024-01-01"),
    ]
    data = UsageData("gaps", reads)
    (found,) = registers("12", data)
    assert found["dates"] == [["2024-01-05", 2], ["2024-01-01", 1]]
    assert found["readQualities"] == [[1, 3, 5, "SUBSTITUTE"], [1, 6, 48, "FINAL_SUBSTITUTE"]]
    assert columnar.dates_of(columnar.date_runs(reads)) == [r.date for r in reads]
    for experiment_id in ROUND_TRIPPED:
        assert round_trip(experiment_id, data) is None, experiment_id


# -- 13 nem12-text -------------------------------------------------------------------------


def test_nem12_text_is_a_clean_file_with_400_records_for_mixed_days() -> None:
    mixed = [QualityRange(3, 5, "SUBSTITUTE"), QualityRange(6, 6, "FINAL_SUBSTITUTE")]
    data = UsageData(
        "mixed",
        [  # the standard's order: date descending, then suffix
            day([1.5] * 48, "2024-01-03", suffix="B1"),
            day([0.5] * 48, "2024-01-03", [QualityRange(1, 48, "SUBSTITUTE")]),
            day([0.5] * 48, "2024-01-02", mixed),
        ],
    )
    payload = REGISTRY["13"].encode(data)
    assert payload == REGISTRY["13"].encode(data)  # reproducible: no time of writing
    lines = payload.decode().split("\r\n")
    assert lines[0] == "100,NEM12,202401032359,NEM2CDR,NEM2CDR"
    assert lines[1] == "200,6102000001,B1E1,B1,B1,B1,M1,kWh,30,"
    assert lines[2].startswith("300,20240103,1.5,") and lines[2].endswith(",A,,,,")
    assert lines[3] == "200,6102000001,B1E1,E1,E1,E1,M1,kWh,30,"
    assert lines[4].startswith("300,20240102,0.5,") and lines[4].endswith(",V,,,,")
    assert lines[5:9] == ["400,1,2,A,,", "400,3,5,S,,", "400,6,6,F,,", "400,7,48,A,,"]
    assert lines[9].startswith("300,20240103,0.5,") and lines[9].endswith(",S,,,,")
    assert lines[10:] == ["900", ""]
    reader = nem2cdr.read(io.BytesIO(payload))
    reader.records()
    assert reader.diagnostics.errors == [] and reader.diagnostics.warnings == []
    assert round_trip("13", data) is None


def test_nem12_text_decode_refuses_a_file_with_errors() -> None:
    payload = REGISTRY["13"].encode(UsageData("one", [day([0.5] * 48)]))
    broken = payload.replace(b"300,20240102,0.5,", b"300,20241302,0.5,")
    with pytest.raises(ValueError, match="NEM12-E010"):
        REGISTRY["13"].decode(broken, "broken")


@pytest.mark.parametrize("experiment_id", ROUND_TRIPPED)
def test_no_reads_round_trip_too(experiment_id: str) -> None:
    assert round_trip(experiment_id, UsageData("empty", [])) is None
