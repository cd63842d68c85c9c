"""Every real example converts to a payload ``nem2cdr.check`` accepts, and says what the file says.

The facts are computed here from ``nem2cdr.read`` (the reader has its own corpus tests) and
CDR-MAPPING.md, never from the converter: one record per (NMI, suffix, day) after duplicates
(the later UpdateDateTime wins, then the later line) plus one per 250 record; aggregateValue the
exact decimal sum, negated for B suffixes; FULL the file's values, MIN_30 their exact half-hour
sums; readQualities the maximal runs of non-actual quality; the standard's order.

Converting all 172 files in all three modes and checking them takes a few seconds, so every
file runs in every mode.
"""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest

import nem2cdr
from nem2cdr import BasicRead, ConvertOptions, IntervalDay
from nem2cdr.usage import DEFAULT_NAMESPACE

Json = Any  # what json.loads gives
Mode = Literal["NONE", "MIN_30", "FULL"]

CORPUS = Path(__file__).parent / "data" / "nem12-examples"
BROKEN = CORPUS / "nem12" / "NEM12#Scenario10#ETSAMDP#NEMMCO.zip"
# AEMO's sample packs; some are named .ZIP.
AEMO = sorted(
    path
    for folder in ("nem12", "nem13")
    for path in (CORPUS / folder).iterdir()
    if path.suffix.lower() == ".zip" and path != BROKEN
)
CONTRIBUTED = [
    *sorted((CORPUS / "unzipped").glob("*.csv")),
    CORPUS / "Example_NEM12_ManyNMIs.zip",
    CORPUS / "Example_different_intervals.zip",
]
# In invalid/ but with tolerated deviations only: no 100 header, blank lines, several 900s,
# short rows and the same days twice.
TOLERATED = [
    CORPUS / "invalid" / name
    for name in (
        "Example_NEM12_missing_header.csv",
        "Example_NEM12_powercor.csv",
        "Example_NEM12_powercor.csv.zip",
        "Example_NEM12_powercor_missing_fields.csv",
    )
]
GOOD = [*AEMO, *CONTRIBUTED, *TOLERATED]
MODES: list[Mode] = ["NONE", "MIN_30", "FULL"]

# CDR-MAPPING.md, "Quality": None is ACTUAL (never listed in readQualities).
CDR_QUALITY: dict[str, str | None] = {
    "A": None,
    "S": "SUBSTITUTE",
    "E": "SUBSTITUTE",
    "N": "SUBSTITUTE",
    "F": "FINAL_SUBSTITUTE",
}
# MIN_30: a half-hour's quality is the least final of its parts.
FINALITY: list[str | None] = [None, "FINAL_SUBSTITUTE", "SUBSTITUTE"]


# -- what the reader says the file holds --------------------------------------------------------


@dataclass(frozen=True)
class Holds:
    days: dict[tuple[str, str, date], IntervalDay]  # the winner of each (NMI, suffix, date)
    copies: int  # days the reader yielded, duplicates included
    basic: Counter[tuple[str, str, date, date, Decimal, str]]  # (NMI, suffix, start, end, ...)
    nmi_of: dict[str, str]  # servicePointId -> NMI

    @property
    def records(self) -> int:
        return len(self.days) + sum(self.basic.values())


@cache
def holds(path: Path) -> Holds:
    reader = nem2cdr.read(path)
    ranked: dict[tuple[str, str, date], tuple[tuple[datetime, int], IntervalDay]] = {}
    basic: Counter[tuple[str, str, date, date, Decimal, str]] = Counter()
    copies = 0
    for position, record in enumerate(reader):
        if isinstance(record, IntervalDay):
            copies += 1
            key = (record.stream.nmi, record.stream.suffix, record.date)
            rank = (record.update_datetime or datetime.min, position)
            if key not in ranked or rank >= ranked[key][0]:
                ranked[key] = (rank, record)
        else:
            basic[basic_key(record)] += 1
    assert reader.diagnostics.ok, reader.diagnostics.errors
    nmis = {nmi for nmi, _, _ in ranked} | {key[0] for key in basic}
    nmi_of = {str(uuid.uuid5(DEFAULT_NAMESPACE, nmi)): nmi for nmi in nmis}
    assert len(nmi_of) == len(nmis)
    return Holds({key: day for key, (_, day) in ranked.items()}, copies, basic, nmi_of)


def decimal(value: float) -> Decimal:
    """The file's decimal: the model's float prints as it (README, "Values are exact")."""
    return Decimal(repr(value))


def basic_key(read: BasicRead) -> tuple[str, str, date, date, Decimal, str]:
    # Every 250 in the corpus has both read dates: start = previous read, end = current read.
    assert read.previous_read_datetime is not None and read.current_read_datetime is not None
    export = read.suffix.startswith("B") or read.direction == "I"
    value = -decimal(read.quantity) if export else decimal(read.quantity)
    quality = CDR_QUALITY[read.current_quality_method[:1]] or "ACTUAL"
    start, end = read.previous_read_datetime.date(), read.current_read_datetime.date()
    return read.nmi, read.suffix, start, end, value, quality


def signed(day: IntervalDay) -> list[Decimal]:
    sign = -1 if day.stream.suffix.startswith("B") else 1
    return [sign * decimal(value) for value in day.values]


def runs(qualities: list[str | None]) -> list[dict[str, Json]]:
    """Maximal runs of equal non-actual quality, 1-based and inclusive."""
    found: list[dict[str, Json]] = []
    for number, quality in enumerate(qualities, start=1):
        if quality is None:
            continue
        if found and found[-1]["quality"] == quality and found[-1]["endInterval"] == number - 1:
            found[-1]["endInterval"] = number
        else:
            found.append({"startInterval": number, "endInterval": number, "quality": quality})
    return found


def native_qualities(day: IntervalDay) -> list[str | None]:
    return [CDR_QUALITY[day.quality_at(k).flag] for k in range(1, len(day.values) + 1)]


def half_hours(day: IntervalDay) -> tuple[list[Decimal], list[str | None]]:
    size = 30 // day.stream.interval_length
    values, qualities = signed(day), native_qualities(day)
    sums = [sum(values[i : i + size], Decimal(0)) for i in range(0, len(values), size)]
    worst = [max(qualities[i : i + size], key=FINALITY.index) for i in range(0, len(values), size)]
    return sums, worst


# -- converting ---------------------------------------------------------------------------------


def convert(path: Path, mode: Mode, **kwargs: Any) -> tuple[nem2cdr.ConvertResult, bytes]:
    out = io.BytesIO()
    result = nem2cdr.convert(path, out, ConvertOptions(interval_reads=mode), **kwargs)
    return result, out.getvalue()


def parse(payload: bytes) -> Json:
    return json.loads(payload, parse_float=Decimal)


def is_negative_zero(value: Json) -> bool:
    return isinstance(value, Decimal) and value == 0 and value.is_signed()


def test_the_corpus_is_all_there() -> None:
    assert len(AEMO) == 94 + 61 - 1
    assert len(CONTRIBUTED) == 12 + 2
    assert all(path.is_file() for path in [*GOOD, BROKEN])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_every_example_converts_to_a_valid_payload_of_what_the_file_holds(
    path: Path, mode: Mode
) -> None:
    result, payload = convert(path, mode)
    assert result.ok, result.diagnostics.errors
    assert nem2cdr.check(payload) == []

    held = holds(path)
    document = parse(payload)
    assert document["meta"] == {"totalRecords": held.records, "totalPages": 1}
    assert result.total_records == held.records
    reads: list[dict[str, Json]] = document["data"]["reads"]
    assert len(reads) == held.records

    days = dict(held.days)
    basic = Counter(held.basic)
    order = []
    for read in reads:
        nmi = held.nmi_of[read["servicePointId"]]  # a UUID v5 of a NMI in the file
        suffix, start = read["registerSuffix"], date.fromisoformat(read["readStartDate"])
        order.append((nmi, -start.toordinal(), suffix))
        if read["readUType"] == "basicRead":
            assert "intervalRead" not in read
            value, quality = read["basicRead"]["value"], read["basicRead"].get("quality", "ACTUAL")
            assert not is_negative_zero(value)
            end = date.fromisoformat(read["readEndDate"])
            key = (nmi, suffix, start, end, value, quality)
            assert basic[key] > 0, key
            basic[key] -= 1
            continue
        assert read["readUType"] == "intervalRead" and "basicRead" not in read
        day = days.pop((nmi, suffix, start))  # each day once
        assert read.get("readEndDate", read["readStartDate"]) == read["readStartDate"]
        # Blank fields are left out (omitted, never "" or null).
        assert read.get("unitOfMeasure", "") == day.stream.uom
        assert read.get("registerId", "") == day.stream.register_id
        assert read.get("meterId", "") == day.stream.meter_serial
        assert "" not in (read.get("unitOfMeasure"), read.get("registerId"), read.get("meterId"))
        assert_interval(read["intervalRead"], day, mode)
    assert days == {}
    assert +basic == Counter()
    # NMI ascending, then readStartDate descending, then registerSuffix ascending.
    assert order == sorted(order)


def assert_interval(interval: dict[str, Json], day: IntervalDay, mode: Mode) -> None:
    values = signed(day)
    assert interval["aggregateValue"] == sum(values, Decimal(0))
    assert not is_negative_zero(interval["aggregateValue"])
    if mode == "NONE":
        assert set(interval) == {"aggregateValue"}
        return
    if mode == "FULL":
        expected, qualities = values, native_qualities(day)
        assert interval["readIntervalLength"] == day.stream.interval_length
    else:
        expected, qualities = half_hours(day)
        assert interval["readIntervalLength"] == 30
    assert interval["intervalReads"] == expected
    assert not any(map(is_negative_zero, interval["intervalReads"]))
    assert interval["readQualities"] == runs(qualities)
    if all(span.flag == "A" for span in day.qualities):
        assert interval["readQualities"] == []


def test_the_corpus_exercises_what_the_facts_are_about() -> None:
    # Without these, the test above would pass without testing export, quality or NEM13.
    days = [day for path in GOOD for day in holds(path).days.values()]
    assert sum(day.stream.suffix.startswith("B") for day in days) > 100
    assert sum(any(span.flag != "A" for span in day.qualities) for day in days) > 100
    assert sum(len(day.qualities) > 1 for day in days) > 50  # V days with 400 records
    assert {day.stream.interval_length for day in days} == {5, 10, 15, 30}
    assert sum(sum(holds(path).basic.values()) for path in GOOD) > 100
    assert sum(holds(path).copies - len(holds(path).days) for path in GOOD) >= 4


def test_a_day_sent_twice_is_one_record_and_the_later_line_wins() -> None:
    # Example_NEM12_powercor.csv: two blocks of E1 and Q1 for 2004-02-01, the same
    # UpdateDateTime (none), 1.111/2.222 in the first block, 3.333/4.444 in the second.
    path = CORPUS / "invalid" / "Example_NEM12_powercor.csv"
    result, payload = convert(path, "FULL")
    assert result.ok and nem2cdr.check(payload) == []
    reads = parse(payload)["data"]["reads"]
    assert [
        (read["registerSuffix"], read["intervalRead"]["intervalReads"][0]) for read in reads
    ] == [
        ("E1", Decimal("3.333")),
        ("Q1", Decimal("4.444")),
    ]
    assert [read["intervalRead"]["aggregateValue"] for read in reads] == [
        Decimal("3.333") * 48,
        Decimal("4.444") * 48,
    ]


def test_the_broken_aemo_sample_converts_to_nothing(tmp_path: Path) -> None:
    # Its 300 row at line 27 is split across three lines (NEM12-E016).
    target = tmp_path / "out" / "usage.json"
    for mode in MODES:
        result = nem2cdr.convert(BROKEN, target, ConvertOptions(interval_reads=mode))
        assert result.ok is False
        assert result.written == []
        assert [error.code for error in result.diagnostics.errors] == ["NEM12-E016"]
    assert not target.exists()
    assert not any(tmp_path.rglob("*.partial*")) and not any(tmp_path.rglob(".*"))


def test_the_broken_aemo_sample_writes_no_pages_and_no_lines(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    assert not nem2cdr.convert(BROKEN, tmp_path / "x.jsonl", jsonl=True).ok
    assert not nem2cdr.convert(BROKEN, tmp_path / "p.json", all_pages=pages).ok
    assert list(tmp_path.iterdir()) == []


def test_ten_minute_data_makes_whole_half_hours() -> None:
    # Example_different_intervals.zip: 30-minute streams and a 10-minute V1 stream.
    path = CORPUS / "Example_different_intervals.zip"
    lengths = {day.stream.interval_length for day in holds(path).days.values()}
    assert lengths == {10, 30}
    result, payload = convert(path, "MIN_30")
    assert result.ok and nem2cdr.check(payload) == []
    intervals = [read["intervalRead"] for read in parse(payload)["data"]["reads"]]
    assert {interval["readIntervalLength"] for interval in intervals} == {30}
    assert {len(interval["intervalReads"]) for interval in intervals} == {48}


def test_an_interval_that_does_not_divide_30_is_refused_for_min_30() -> None:
    # The 10-minute file's sibling with 20-minute data (non-spec, tolerated by the reader):
    # 20 divides 1440, so FULL carries it, but half-hours cannot be made of 20 minutes.
    values = ",".join(["0.5"] * 72)
    text = (
        "100,NEM12,202401020300,MDP1,RETAILER\r\n"
        "200,6102000001,E1,1,E1,N1,METER1,kWh,20,\r\n"
        f"300,20240101,{values},A,,,20240102030000,20240102040000\r\n"
        "900\r\n"
    ).encode()
    out = io.BytesIO()
    full = nem2cdr.convert(io.BytesIO(text), out, ConvertOptions(interval_reads="FULL"))
    assert full.ok and nem2cdr.check(out.getvalue()) == []
    out = io.BytesIO()
    half = nem2cdr.convert(io.BytesIO(text), out, ConvertOptions(interval_reads="MIN_30"))
    assert half.ok is False and out.getvalue() == b""
    [error] = half.diagnostics.errors
    assert error.code == "NEM12-E040" and "20" in error.message


# -- other shapes of the same payload -----------------------------------------------------------

BIGGEST = CORPUS / "Example_NEM12_ManyNMIs.zip"  # 99 NMIs, one day each


def test_the_biggest_example_is_big_enough_to_page() -> None:
    assert holds(BIGGEST).records == max(holds(path).records for path in GOOD) > 50


@pytest.mark.parametrize("mode", MODES)
def test_every_page_checks_and_the_pages_are_the_whole_response(tmp_path: Path, mode: Mode) -> None:
    _, whole = convert(BIGGEST, mode)
    result = nem2cdr.convert(
        BIGGEST,
        tmp_path / "unused.json",
        ConvertOptions(interval_reads=mode),
        page_size=25,
        all_pages=tmp_path / "pages",
    )
    assert result.ok
    files = sorted((tmp_path / "pages").iterdir())
    total = holds(BIGGEST).records
    assert len(files) == result.total_pages == -(-total // 25)
    reads = []
    for file in files:
        assert nem2cdr.check(file) == []
        page = parse(file.read_bytes())
        assert page["meta"] == {"totalRecords": total, "totalPages": len(files)}
        reads += page["data"]["reads"]
    assert reads == parse(whole)["data"]["reads"]


@pytest.mark.parametrize("mode", MODES)
def test_json_lines_check_line_by_line_and_are_the_response_reads(mode: Mode) -> None:
    _, whole = convert(BIGGEST, mode)
    result, lines = convert(BIGGEST, mode, jsonl=True)
    assert result.ok
    assert nem2cdr.check(lines) == []
    assert [parse(line) for line in lines.splitlines()] == parse(whole)["data"]["reads"]
