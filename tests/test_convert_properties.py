"""Properties of the CDR conversion over arbitrary NEM12 models (any interval, quality, 400s)."""

from __future__ import annotations

import io
import json
import math
import tempfile
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import nem2cdr
from nem2cdr import ConvertOptions, IntervalDay
from nem2cdr.writer import write_nem12
from tests.strategies import interval_days

QUALITY = {"A": "ACTUAL", "S": "SUBSTITUTE", "E": "SUBSTITUTE", "N": "SUBSTITUTE"}
QUALITY["F"] = "FINAL_SUBSTITUTE"
FINALITY = {"ACTUAL": 0, "FINAL_SUBSTITUTE": 1, "SUBSTITUTE": 2}


def exact_sum(numbers: list[Decimal]) -> Decimal:
    with localcontext() as context:
        context.prec = 200  # the default 28 digits would round
        return sum(numbers, Decimal(0))


def nem12_bytes(days: list[IntervalDay]) -> bytes:
    out = io.BytesIO()
    write_nem12(out, days)
    return out.getvalue()


def converted(data: bytes, **options: Any) -> dict[str, Any]:
    out = io.BytesIO()
    result = nem2cdr.convert(
        io.BytesIO(data), out, ConvertOptions(service_point_id="nmi", **options)
    )
    assert result.ok, result.diagnostics.errors
    payload: dict[str, Any] = json.loads(out.getvalue(), parse_float=Decimal)
    assert nem2cdr.check(out.getvalue()) == []
    return payload


def per_interval_quality(day: IntervalDay) -> list[str]:
    return [QUALITY[day.quality_at(k).flag] for k in range(1, len(day.values) + 1)]


def runs(qualities: list[str]) -> list[dict[str, Any]]:
    """Maximal runs of equal non-actual quality, 1-based: what readQualities must say."""
    found: list[dict[str, Any]] = []
    for index, quality in enumerate(qualities, 1):
        if quality == "ACTUAL":
            continue
        if found and found[-1]["quality"] == quality and found[-1]["endInterval"] == index - 1:
            found[-1]["endInterval"] = index
        else:
            found.append({"startInterval": index, "endInterval": index, "quality": quality})
    return found


def by_key(payload: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    reads = payload["data"]["reads"]
    return {(r["servicePointId"], r["registerSuffix"], r["readStartDate"]): r for r in reads}


def sign(day: IntervalDay) -> int:
    return -1 if day.stream.suffix.startswith("B") else 1


@settings(max_examples=40, deadline=None)
@given(interval_days())
def test_full_carries_every_value_and_quality_exactly(days: list[IntervalDay]) -> None:
    reads = by_key(converted(nem12_bytes(days), interval_reads="FULL"))
    assert len(reads) == len(days)
    for day in days:
        read = reads[(day.stream.nmi, day.stream.suffix, day.date.isoformat())]
        interval = read["intervalRead"]
        exact = [sign(day) * Decimal(repr(value)) for value in day.values]
        assert interval["intervalReads"] == exact
        assert interval["aggregateValue"] == exact_sum(exact)
        assert interval["readIntervalLength"] == day.stream.interval_length
        assert interval["readQualities"] == runs(per_interval_quality(day))
        assert read["unitOfMeasure"] == day.stream.uom


@settings(max_examples=40, deadline=None)
@given(interval_days())
def test_min30_is_the_exact_half_hour_sums_of_full(days: list[IntervalDay]) -> None:
    data = nem12_bytes(days)
    full, half = (
        by_key(converted(data, interval_reads="FULL")),
        by_key(converted(data, interval_reads="MIN_30")),
    )
    none = by_key(converted(data))
    for key, read in full.items():
        values = read["intervalRead"]["intervalReads"]
        size = 30 // read["intervalRead"]["readIntervalLength"]
        sums = [exact_sum(values[i : i + size]) for i in range(0, len(values), size)]
        coarse = half[key]["intervalRead"]
        assert coarse["readIntervalLength"] == 30
        assert coarse["intervalReads"] == sums
        assert coarse["aggregateValue"] == read["intervalRead"]["aggregateValue"]
        assert none[key]["intervalRead"] == {
            "aggregateValue": read["intervalRead"]["aggregateValue"]
        }
        # A half-hour's quality is the least final of its parts.
        fine = ["ACTUAL"] * len(values)
        for span in read["intervalRead"]["readQualities"]:
            for k in range(span["startInterval"], span["endInterval"] + 1):
                fine[k - 1] = span["quality"]
        worst = [
            max(fine[i : i + size], key=FINALITY.__getitem__) for i in range(0, len(fine), size)
        ]
        assert coarse["readQualities"] == runs(worst)


@settings(max_examples=25, deadline=None)
@given(interval_days(), st.integers(1, 7))
def test_pages_concatenated_are_the_unpaged_list(days: list[IntervalDay], size: int) -> None:
    data = nem12_bytes(days)
    whole = converted(data)
    total = whole["meta"]["totalRecords"]
    assert whole["meta"]["totalPages"] == (1 if total else 0)
    with tempfile.TemporaryDirectory() as folder:
        result = nem2cdr.convert(
            io.BytesIO(data),
            "-",
            ConvertOptions(service_point_id="nmi"),
            all_pages=folder,
            page_size=size,
        )
        pages = [
            json.loads(path.read_bytes(), parse_float=Decimal)
            for path in sorted(Path(folder).iterdir())
        ]
    assert result.total_pages == math.ceil(total / size) == len(pages)
    assert [read for page in pages for read in page["data"]["reads"]] == whole["data"]["reads"]
    for number, page in enumerate(pages, 1):
        assert page["meta"] == {"totalRecords": total, "totalPages": len(pages)}
        links = page["links"]
        assert f"page={number}&page-size={size}" in links["self"]
        assert ("prev" in links) == ("first" in links) == (number > 1)
        assert ("next" in links) == ("last" in links) == (number < len(pages))
