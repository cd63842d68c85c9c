"""mmtlite loading in this process: the complete master list, then ADD and REMOVE of 10%.

    pytest benchmarks/test_mmt_speed.py --benchmark-only

The whole-process figures against the ``sqlite3`` shell are ``python -m benchmarks.measure_mmt``;
these are the same steps at 200,000 meters, for pytest-benchmark's history and comparisons.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.mmt_files import MmtFiles, mmt_files
from mmtlite.loader import RunResult, load
from mmtlite.paths import Place

METERS = 200_000


@pytest.fixture(scope="module")
def files() -> MmtFiles:
    return mmt_files(METERS, METERS // 10)


def _fresh_home(
    files: MmtFiles, loaded: tuple[Path, ...]
) -> tuple[tuple[Place], dict[str, object]]:
    place = Place(Path(tempfile.mkdtemp(prefix="mmt-bench-")), "build")
    if loaded:
        load(place, loaded)
    return (place,), {}


def _bench(
    benchmark: BenchmarkFixture, files: MmtFiles, loaded: tuple[Path, ...], path: Path
) -> RunResult:
    result: RunResult = benchmark.pedantic(  # type: ignore[no-untyped-call]
        lambda place: load(place, [path]),
        setup=lambda: _fresh_home(files, loaded),
        rounds=3,
        iterations=1,
    )
    assert [file.outcome for file in result.files] == ["loaded"]
    return result


def test_load_complete_master_list(benchmark: BenchmarkFixture, files: MmtFiles) -> None:
    result = _bench(benchmark, files, (), files.master)
    assert result.files[0].counts.added == METERS


def test_add_ten_percent(benchmark: BenchmarkFixture, files: MmtFiles) -> None:
    result = _bench(benchmark, files, (files.master,), files.add)
    assert result.files[0].counts.added == METERS // 10


def test_remove_ten_percent(benchmark: BenchmarkFixture, files: MmtFiles) -> None:
    result = _bench(benchmark, files, (files.master, files.add), files.remove)
    assert result.files[0].counts.removed == METERS // 10
