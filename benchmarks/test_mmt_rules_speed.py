"""mmtlite's rules, a selection and the status counts in this process, at 200,000 meters.

    pytest benchmarks/test_mmt_rules_speed.py --benchmark-only

The whole-process figures at 1,000,000 meters are ``python -m benchmarks.measure_rules``; these
are the same steps for pytest-benchmark's history and comparisons. Each round works on a fresh
copy of a generated, ingested home and rolls its transaction back.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.measure_rules import world
from benchmarks.process import console_script
from mmtlite import rules
from mmtlite.migrations import connect
from mmtlite.paths import Place
from mmtlite.reports import status
from mmtlite.tranches import select

METERS = 200_000


@pytest.fixture(scope="module")
def source() -> Path:
    mmtlite = console_script("mmtlite")
    if mmtlite is None:
        pytest.skip("needs the mmtlite command (pip install -e .)")
    return world(mmtlite, METERS)


def _bench(benchmark: BenchmarkFixture, source: Path, work: Callable[..., object]) -> object:
    def fresh() -> tuple[tuple[sqlite3.Connection, Place], dict[str, object]]:
        home = Path(tempfile.mkdtemp(prefix="mmt-rules-bench-"))
        shutil.copy(source, home / "mmt_build.sqlite")
        connection = connect(home / "mmt_build.sqlite")
        connection.execute("BEGIN IMMEDIATE")
        return (connection, Place(home, "build")), {}

    def run(connection: sqlite3.Connection, place: Place) -> object:
        try:
            return work(connection, place)
        finally:
            connection.execute("ROLLBACK")
            connection.close()
            shutil.rmtree(place.root)

    return benchmark.pedantic(run, setup=fresh, rounds=3, iterations=1)  # type: ignore[no-untyped-call]


def test_evaluate_every_rule(benchmark: BenchmarkFixture, source: Path) -> None:
    evaluation = _bench(benchmark, source, lambda c, p: rules.evaluate(c, "benchmark"))
    assert isinstance(evaluation, rules.Evaluation) and evaluation.changes == {}


def test_select_a_tenth(benchmark: BenchmarkFixture, source: Path) -> None:
    selection = _bench(benchmark, source, lambda c, p: select(c, p, "B1", METERS // 10, 0))
    assert getattr(selection, "meters", 0) == METERS // 10


def test_status_counts(benchmark: BenchmarkFixture, source: Path) -> None:
    counted = _bench(benchmark, source, lambda c, p: status(c, "build"))
    assert getattr(counted, "meters", 0) == METERS
