"""Reader throughput on the big generated file, against the floor of plain ``csv.reader``.

    pytest benchmarks/ --benchmark-only

Not part of the normal test run (``testpaths = ["tests"]``). Each benchmark reads the whole
file three times; ``extra_info`` holds the file size and the MB/s of the median round.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.files import bench_file, megabytes
from benchmarks.readers import Outcome, read_with_csv, read_with_nem2cdr


@pytest.fixture(scope="module")
def big() -> Path:
    return bench_file("big")


def _run(benchmark: BenchmarkFixture, read: Callable[[Path], Outcome], path: Path) -> Outcome:
    outcome: Outcome = benchmark.pedantic(  # type: ignore[no-untyped-call]
        read, args=(path,), rounds=3, iterations=1
    )
    timings = benchmark.stats
    assert timings is not None  # set once pedantic has run
    median: float = timings.stats.median
    size = megabytes(path)
    benchmark.extra_info["file_mb"] = round(size, 1)
    benchmark.extra_info["mb_per_s"] = round(size / median, 1)
    benchmark.extra_info["records"] = outcome.records
    return outcome


def test_nem2cdr_read_big(benchmark: BenchmarkFixture, big: Path) -> None:
    outcome = _run(benchmark, read_with_nem2cdr, big)
    # A fast reader that drops data or complains about a valid file is no win.
    assert outcome.records > 0
    assert (outcome.errors, outcome.warnings) == (0, 0)


def test_csv_reader_big(benchmark: BenchmarkFixture, big: Path) -> None:
    outcome = _run(benchmark, read_with_csv, big)
    assert outcome.records > 0
