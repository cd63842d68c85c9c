"""The synthetic NEM12 generator: deterministic, well formed, and shaped like real houses."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nem2cdr.generator import generate, generate_days
from nem2cdr.model import IntervalDay

SAMPLE = Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"


def _bytes(
    *, nmis: int, days: int, interval: int, seed: int, start: date = date(2024, 1, 1)
) -> bytes:
    out = io.BytesIO()
    generate(out, nmis=nmis, days=days, interval=interval, start=start, seed=seed)
    return out.getvalue()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() -> None:
    first = _bytes(nmis=3, days=20, interval=30, seed=7)
    assert first == _bytes(nmis=3, days=20, interval=30, seed=7)
    assert first != _bytes(nmis=3, days=20, interval=30, seed=8)


def test_an_nmi_gets_the_same_data_whatever_the_number_of_nmis() -> None:
    alone = list(generate_days(nmis=1, days=30, seed=5))
    among_others = list(generate_days(nmis=3, days=30, seed=5))
    assert among_others[: len(alone)] == alone


@settings(max_examples=15, deadline=None)
@given(
    interval=st.sampled_from([5, 10, 15, 30, 60]),
    seed=st.integers(0, 2**32),
    start=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
)
def test_every_day_is_well_formed(interval: int, seed: int, start: date) -> None:
    count = 1440 // interval
    for day in generate_days(nmis=3, days=15, interval=interval, start=start, seed=seed):
        assert len(day.values) == count
        assert min(day.values) >= 0
        assert all(round(v, 3) == v for v in day.values), "kWh with at most 3 decimals"
        _assert_covers(day, count)
        assert day.update_datetime is not None and day.msats_load_datetime is not None
        assert day.update_datetime < day.msats_load_datetime


def _assert_covers(day: IntervalDay, count: int) -> None:
    expected = 1
    for span in day.qualities:
        assert span.start == expected <= span.end
        expected = span.end + 1
    assert expected == count + 1


@pytest.mark.parametrize("interval", [5, 15, 30])
def test_export_is_zero_at_night(interval: int) -> None:
    dawn, dusk = 4 * 60 // interval, 20 * 60 // interval  # well outside daylight all year
    exports = [
        d for d in generate_days(nmis=2, days=366, interval=interval) if d.stream.suffix == "B1"
    ]
    assert len(exports) == 2 * 366
    for day in exports:
        assert not any(day.values[:dawn]) and not any(day.values[dusk:])
    assert sum(sum(day.values) for day in exports) > 0


def test_the_file_is_laid_out_nmi_by_nmi_stream_by_stream_day_by_day() -> None:
    days = list(generate_days(nmis=4, days=10, start=date(2024, 2, 25)))
    streams = [(nmi, suffix) for (nmi, suffix), _ in groupby(days, _stream_key)]
    assert streams == [
        ("6102000001", "E1"),
        ("6102000001", "B1"),
        ("6102000002", "E1"),
        ("6102000002", "B1"),
        # Every third NMI has a controlled load (E2), written between E1 and B1.
        ("6102000003", "E1"),
        ("6102000003", "E2"),
        ("6102000003", "B1"),
        ("6102000004", "E1"),
        ("6102000004", "B1"),
    ]
    for _, group in groupby(days, _stream_key):
        run = list(group)
        assert [d.date for d in run] == [date(2024, 2, 25) + timedelta(n) for n in range(10)]
        assert all(d.stream is run[0].stream for d in run), "one Stream object per 200"


def _stream_key(day: IntervalDay) -> tuple[str, str]:
    return day.stream.nmi, day.stream.suffix


@pytest.mark.parametrize(
    ("solar", "controlled_load", "configuration"),
    [(True, True, "E1E2B1"), (False, None, "E1"), (False, True, "E1E2"), (True, False, "E1B1")],
)
def test_options_choose_the_streams(
    solar: bool, controlled_load: bool | None, configuration: str
) -> None:
    days = generate_days(nmis=1, days=2, solar=solar, controlled_load=controlled_load)
    assert {d.stream.nmi_configuration + ":" + d.stream.suffix for d in days} == {
        f"{configuration}:{configuration[k : k + 2]}" for k in range(0, len(configuration), 2)
    }


def test_most_days_are_actual_and_a_few_are_substituted() -> None:
    days = list(generate_days(nmis=3, days=365, interval=30, seed=1))
    methods = Counter(d.quality_method for d in days)
    assert 0.9 < methods["A"] / len(days) < 0.99
    assert {"V", "S53", "F14", "E52"} <= set(methods)
    variable = [d for d in days if d.quality_method == "V"]
    assert {len(d.qualities) for d in variable} <= {2, 3, 4}
    assert any(span.quality_method != "A" for d in variable for span in d.qualities)
    assert all(len(d.qualities) == 1 for d in days if d.quality_method != "V")
    assert any(d.b2b for d in days), "some substituted days carry a 500 record"


def test_an_outage_is_substituted_with_zeros_on_every_stream() -> None:
    outages = [
        (d, span)
        for d in generate_days(nmis=3, days=365, interval=30, seed=1)
        for span in d.qualities
        if span.reason_code == 79
    ]
    assert outages
    for day, span in outages:
        assert not any(day.values[span.start - 1 : span.end])


def test_the_line_fields_are_the_lines_of_the_written_file() -> None:
    lines = _bytes(nmis=3, days=60, interval=30, seed=1).split(b"\r\n")
    for day in generate_days(nmis=3, days=60, interval=30, seed=1):
        assert lines[day.stream.line - 1].startswith(b"200," + day.stream.nmi.encode())
        assert lines[day.line - 1].startswith(b"300," + day.date.strftime("%Y%m%d").encode())
        if day.quality_method == "V":
            for span in day.qualities:
                assert lines[span.line - 1].startswith(b"400,%d,%d," % (span.start, span.end))
        for b2b in day.b2b:
            assert lines[b2b.line - 1].startswith(b"500,")


@pytest.mark.parametrize("interval", [0, 7, -5, 1441])
def test_an_interval_that_does_not_divide_the_day_is_refused(interval: int) -> None:
    with pytest.raises(ValueError):
        next(generate_days(interval=interval))


def test_the_shipped_sample_is_what_its_readme_command_makes() -> None:
    made = _bytes(nmis=1, days=731, interval=15, start=date(2023, 1, 1), seed=0)
    assert SAMPLE.read_bytes() == made
