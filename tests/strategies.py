"""Hypothesis strategies for arbitrary NEM12 models: any interval, quality and 400 ranges."""

from __future__ import annotations

import itertools
import string
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from nem2cdr.fields import UOM_BY_LOWER
from nem2cdr.model import B2BDetail, IntervalDay, QualitySpan, Stream

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
        draw(_CODE),
        draw(_TEXT),
        draw(_TEXT),
        draw(_CODE.map(lambda s: s[:2])),
        draw(_TEXT),
        draw(_TEXT),
        uom,
        uom,
        draw(st.sampled_from([5, 15, 30])),
        draw(st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2099, 12, 31)))),
        0,
    )


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
def interval_days(draw: st.DrawFn) -> list[IntervalDay]:
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
