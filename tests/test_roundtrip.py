"""Model -> writer -> reader gives the model back: generated files, arbitrary models, the corpus."""

from __future__ import annotations

import io
import itertools
import string
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nem2cdr
from nem2cdr.fields import UOM_BY_LOWER
from nem2cdr.generator import generate, generate_days
from nem2cdr.model import B2BDetail, BasicRead, IntervalDay, QualitySpan, Record, Stream
from nem2cdr.writer import write_nem12, write_nem13
from tests.helpers import CORPUS, codes, read_bytes


def _comparable(records: Sequence[Record], *, ignore: frozenset[str]) -> object:
    """The records as plain data without the fields that depend on the file's layout."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ignore}
        if isinstance(value, (list, tuple)):
            return [strip(v) for v in value]
        return value

    return strip(msgspec.to_builtins(records))


def _written(records: Sequence[Record]) -> bytes:
    out = io.BytesIO()
    if records and isinstance(records[0], BasicRead):
        write_nem13(out, [r for r in records if isinstance(r, BasicRead)])
    else:
        write_nem12(out, [r for r in records if isinstance(r, IntervalDay)])
    return out.getvalue()


@pytest.mark.parametrize("interval", [5, 15, 30])
def test_a_generated_file_reads_back_as_the_generated_days_line_for_line(interval: int) -> None:
    out = io.BytesIO()
    generate(out, nmis=3, days=20, interval=interval, seed=3)
    reader, records = read_bytes(out.getvalue(), strict=True)
    assert codes(reader) == []
    assert records == list(generate_days(nmis=3, days=20, interval=interval, seed=3))


# -- arbitrary models ----------------------------------------------------------------------

_TEXT = st.text(string.ascii_letters + string.digits + " -/", max_size=12)
_CODE = st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=10)
_TIME = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)
_METHOD = st.from_regex(r"[AEFNS]([0-9]{2})?", fullmatch=True)
_REASON = st.one_of(st.none(), st.integers(0, 999))
_VALUE = st.builds(
    lambda digits, exponent: float(Decimal((0, tuple(map(int, str(digits))), exponent))),
    st.integers(0, 10**15 - 1),
    st.integers(-12, 3),
)


@st.composite
def _streams(draw: st.DrawFn) -> Stream:
    uom = draw(st.sampled_from(sorted(UOM_BY_LOWER.values())))
    return Stream(
        draw(_CODE), draw(_TEXT), draw(_TEXT), draw(_CODE.map(lambda s: s[:2])), draw(_TEXT),
        draw(_TEXT), uom, uom, draw(st.sampled_from([5, 15, 30])),
        draw(st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2099, 12, 31)))), 0,
    )  # fmt: skip


@st.composite
def _qualities(draw: st.DrawFn, count: int) -> tuple[str, int | None, str, tuple[QualitySpan, ...]]:
    """A whole-day flag, or a V day with ranges that tile 1..count."""
    if draw(st.booleans()):
        method, reason, text = draw(_METHOD), draw(_REASON), draw(_TEXT)
        return method, reason, text, (QualitySpan(1, count, method, reason, text, 0),)
    cuts = sorted(draw(st.sets(st.integers(2, count), max_size=4)))
    bounds = [1, *cuts, count + 1]
    spans = tuple(
        QualitySpan(a, b - 1, draw(_METHOD), draw(_REASON), draw(_TEXT), 0)
        for a, b in itertools.pairwise(bounds)
    )
    return "V", None, "", spans


_B2B = st.builds(B2BDetail, _TEXT, _TEXT, st.one_of(st.none(), _TIME), _TEXT, st.just(0))


@st.composite
def _values(draw: st.DrawFn, count: int) -> list[float]:
    # Up to 48 drawn values, repeated to fill a 5- or 15-minute day: drawing 288 values per
    # day would make the test slow without finding more.
    drawn = draw(st.lists(_VALUE, min_size=1, max_size=min(count, 48)))
    return (drawn * (count // len(drawn) + 1))[:count]


@st.composite
def _days(draw: st.DrawFn) -> list[IntervalDay]:
    records = []
    for stream in draw(st.lists(_streams(), min_size=1, max_size=3, unique_by=lambda s: s.nmi)):
        first = draw(st.dates(date(2000, 1, 1), date(2099, 1, 1)))
        count = stream.intervals
        for offset in range(draw(st.integers(1, 3))):
            method, reason, text, spans = draw(_qualities(count))
            values = draw(_values(count))
            update, msats = draw(st.one_of(st.none(), _TIME)), draw(st.one_of(st.none(), _TIME))
            b2b = tuple(draw(st.lists(_B2B, max_size=2)))
            day = first + timedelta(days=offset)
            records.append(
                IntervalDay(stream, day, values, method, reason, text, spans, update, msats, b2b, 0)
            )
    return records


@settings(max_examples=30, deadline=None)
@given(_days())
def test_any_model_reads_back_as_written(days: list[IntervalDay]) -> None:
    reader, records = read_bytes(_written(days))
    assert codes(reader) == []
    ignore = frozenset({"line"})
    assert _comparable(records, ignore=ignore) == _comparable(list(days), ignore=ignore)


# -- the corpus ----------------------------------------------------------------------------


def _corpus() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".csv", ".zip"))


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_what_the_reader_keeps_of_a_real_file_is_written_back_exactly(path: Path) -> None:
    records = nem2cdr.read(path).records()
    for kind in (IntervalDay, BasicRead):
        kept = [r for r in records if isinstance(r, kind)]
        if not kept:
            continue
        _, again = read_bytes(_written(kept))
        # The writer spells units the spec's way, so only the normalised UOM survives.
        ignore = frozenset({"line", "uom_raw"})
        assert _comparable(again, ignore=ignore) == _comparable(kept, ignore=ignore)
