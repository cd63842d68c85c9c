"""The payload experiments on the bundled sample, in process: each encoder, and whole runs.

    pytest benchmarks/test_experiments_speed.py --benchmark-only

Not part of the normal test run (``testpaths = ["tests"]``). ``test_encode`` times one
experiment's ``encode`` on the sample's data (1,462 daily reads, 140,352 values), already
loaded, from cold (no encoded reads kept from an earlier round); ``extra_info`` holds the
payload size and the microseconds per value of the median round. The two runs are what
``nem2cdr experiments`` does after start-up: load the file, encode, prove every round trip,
compress, measure pages. The whole process, start-up included, is ``measure_experiments``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import nem2cdr_experiments as experiments
from nem2cdr_experiments.data import UsageData, load
from nem2cdr_experiments.runner import Run

SAMPLE = (
    Path(__file__).resolve().parent.parent
    / "samples"
    / ("NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv")
)
THREAD = ["00", "01", "02", "03", "04", "05", "06", "07"]


@pytest.fixture(scope="module")
def sample() -> UsageData:
    return load(SAMPLE)


def _median(benchmark: BenchmarkFixture) -> float:
    timings = benchmark.stats
    assert timings is not None  # set once pedantic has run
    median: float = timings.stats.median
    return median


@pytest.mark.parametrize("experiment_id", sorted(experiments.REGISTRY))
def test_encode(benchmark: BenchmarkFixture, sample: UsageData, experiment_id: str) -> None:
    experiment = experiments.REGISTRY[experiment_id]

    def fresh() -> tuple[tuple[UsageData], dict[str, object]]:
        # A new UsageData each round: cdr_shapes keeps the last data's encoded reads, which
        # would make 08-11 look free after the first round.
        return (UsageData(sample.source, list(sample.reads)),), {}

    payload: bytes = benchmark.pedantic(  # type: ignore[no-untyped-call]
        experiment.encode, setup=fresh, rounds=5, iterations=1, warmup_rounds=1
    )
    benchmark.extra_info["raw_bytes"] = len(payload)
    benchmark.extra_info["us_per_value"] = round(_median(benchmark) * 1e6 / sample.values, 3)


def _run(benchmark: BenchmarkFixture, only: list[str] | None, codecs: str) -> Run:
    run: Run = benchmark.pedantic(  # type: ignore[no-untyped-call]
        experiments.run,
        args=(SAMPLE,),
        kwargs={"only": only, "codecs": codecs, "workers": "auto"},
        rounds=5,
        iterations=1,
        warmup_rounds=1,
    )
    assert run.failed == []  # a fast run whose encodings do not round-trip is no win
    benchmark.extra_info["experiments"] = len(run.experiments)
    return run


def test_run_thread_experiments_gzip6(benchmark: BenchmarkFixture) -> None:
    run = _run(benchmark, THREAD, "gzip:6")
    assert [result.id for result in run.experiments] == THREAD


def test_run_all_default_codecs(benchmark: BenchmarkFixture) -> None:
    run = _run(benchmark, None, "default")
    assert len(run.experiments) == len(experiments.REGISTRY)
