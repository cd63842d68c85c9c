"""Converting on two cores gives exactly what one core gives: bytes, diagnostics, lines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import nem2cdr
from nem2cdr import ConvertOptions, conversion, parallel
from nem2cdr.cdr_model import IntervalReadsMode
from nem2cdr.generator import generate
from tests.helpers import day_values, nem12, row_300


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split even small files (two workers are asked for explicitly, so on any machine)."""
    monkeypatch.setattr(parallel, "MIN_SIZE", 1)


def both_ways(
    path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: object
) -> list[tuple[bytes, list[str]]]:
    """(output, diagnostics) converted with two workers (in halves), then with one."""
    results = []
    for workers in (2, 1):
        out = io.BytesIO()
        result = nem2cdr.convert(path, out, workers=workers, **kwargs)  # type: ignore[arg-type]
        found = result.diagnostics
        results.append((out.getvalue(), sorted(str(d) for d in found.errors + found.warnings)))
    return results


@pytest.mark.usefixtures("two_cores")
@pytest.mark.parametrize("mode", ["NONE", "MIN_30", "FULL"])
def test_a_generated_file_converts_the_same_on_two_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: IntervalReadsMode
) -> None:
    path = tmp_path / "many.csv"
    with path.open("wb") as out:
        generate(out, nmis=7, days=20, interval=15, seed=5)
    assert parallel.halves(path, workers=2) is not None
    halves, whole = both_ways(path, monkeypatch, options=ConvertOptions(interval_reads=mode))
    assert halves == whole
    assert b'"totalRecords":' in halves[0]


@pytest.mark.usefixtures("two_cores")
def test_pages_are_the_same_on_two_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "many.csv"
    with path.open("wb") as out:
        generate(out, nmis=5, days=10, interval=30, seed=1)
    halves, whole = both_ways(path, monkeypatch, page=3, page_size=7)
    assert halves == whole


E1 = "200,6102000001,E1,1,E1,N1,M1,kWh,30,"
E1_OTHER = "200,6102000002,E1,1,E1,N1,M2,kWh,30,"


@pytest.mark.usefixtures("two_cores")
def test_a_day_in_both_halves_is_resolved_and_reported_like_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    early = row_300(values=day_values(48, "1"), tail="A,,,20240102030000,")
    late = row_300(values=day_values(48, "2"), tail="A,,,20240105030000,")
    filler = [row_300(f"202402{d:02}") for d in range(1, 29)]
    # The later UpdateDateTime is in the first half: it must win over the copy in the second.
    path = tmp_path / "dup.csv"
    path.write_bytes(nem12(E1, late, *filler, E1_OTHER, *filler, E1, early, *filler))
    parts = parallel.halves(path, workers=2)
    assert parts is not None and parts[0].end < path.read_bytes().index(early.encode())
    halves, whole = both_ways(path, monkeypatch, options=ConvertOptions(interval_reads="FULL"))
    assert halves == whole
    assert any("NEM12-W011" in d and "line 3 wins (later UpdateDateTime)" in d for d in halves[1])


@pytest.mark.usefixtures("two_cores")
def test_errors_in_the_second_half_keep_their_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filler = [row_300(f"202402{d:02}") for d in range(1, 29)]
    path = tmp_path / "bad.csv"
    path.write_bytes(nem12(E1, *filler, E1_OTHER, *filler[:20], row_300("20241301"), *filler[20:]))
    halves, whole = both_ways(path, monkeypatch, keep_going=True)
    assert halves == whole
    # 100 (1), 200 (2), 28 days (3-30), 200 (31), 20 days (32-51), the bad day (52)
    assert any("NEM12-E010" in d and ":52:" in d for d in halves[1])


@pytest.mark.usefixtures("two_cores")
@pytest.mark.parametrize(
    "layout", ["second block", "no header", "nem13 first"], ids=lambda layout: layout
)
def test_only_a_plain_first_half_is_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """A second block, a missing header or NEM13 data before the middle: one process reads it,
    because the second half's starting state would otherwise be a guess."""
    filler = [row_300(f"202402{d:02}") for d in range(1, 29)]
    basic = (
        "250,6102000009,11,1,11,11,M9,E,100,20240101000000,A,,,200,20240401000000,A,,,100,kWh,,,"
    )
    if layout == "second block":
        data = nem12(E1, *filler) + b"\r\n" + nem12(E1_OTHER, *filler, header=False)
    elif layout == "no header":
        data = nem12(E1, *filler, E1_OTHER, *filler, header=False)
    else:
        data = nem12(*[basic] * 60, E1_OTHER, *filler, header=False)
    path = tmp_path / "odd.csv"
    path.write_bytes(data)
    assert parallel.halves(path, workers=2) is None
    halves, whole = both_ways(path, monkeypatch, keep_going=True)
    assert halves == whole


@pytest.fixture
def many(tmp_path: Path) -> Path:
    """A generated file of four NMIs, split in halves once MIN_SIZE allows."""
    path = tmp_path / "many.csv"
    nem2cdr.generate(path, nmis=4, days=5, interval=30, seed=2)
    return path


@pytest.mark.usefixtures("two_cores")
def test_a_failed_child_falls_back_to_one_process(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = many
    expected = io.BytesIO()
    nem2cdr.convert(path, expected, workers=1)
    written = io.BytesIO()
    real_fill = conversion._fill

    def failing_in_the_child(*args: object, **kwargs: object) -> None:
        if args[-1] == conversion._SECOND_HALF:
            raise RuntimeError("the child breaks")
        real_fill(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(conversion, "_fill", failing_in_the_child)
    assert nem2cdr.convert(path, written, workers=2).ok
    assert written.getvalue() == expected.getvalue()


@pytest.mark.usefixtures("two_cores")
def test_the_library_never_forks_unless_asked(many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = many
    assert parallel.halves(path) is None
    assert parallel.halves(path, workers=2) is not None

    def no_fork(*args: object) -> None:
        raise AssertionError("forked without being asked")

    monkeypatch.setattr(conversion, "Forked", no_fork)
    assert nem2cdr.convert(path, io.BytesIO()).ok


@pytest.mark.parametrize("workers", [0, -1, "two", True])
def test_workers_must_be_a_count_or_auto(workers: object) -> None:
    with pytest.raises(ValueError, match="workers"):
        parallel.worker_count(workers)  # type: ignore[arg-type]


def test_small_zipped_and_piped_inputs_are_not_split(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    path.write_bytes(nem12(E1, row_300()))
    assert parallel.halves(path, workers=2) is None  # under MIN_SIZE
    assert parallel.halves("-", workers=2) is None
    assert parallel.halves(io.BytesIO(b""), workers=2) is None
