"""Experiments 01-07, the thread's shapes: lossless round trips, and the thread's findings."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nem2cdr_experiments as experiments
from nem2cdr.generator import generate_days
from nem2cdr.model import IntervalDay
from nem2cdr_experiments.base import Experiment
from nem2cdr_experiments.codecs import parse
from nem2cdr_experiments.cost import CostModel
from nem2cdr_experiments.data import UsageData, from_days, load
from nem2cdr_experiments.runner import first_difference, measure_all
from nem2cdr_experiments.thread_shapes import range_strings, runs_from, with_removed, zero_runs
from tests.strategies import interval_days

SAMPLE = "samples/NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"
THREAD = experiments.experiments([f"0{n}" for n in range(1, 8)])
LOSSLESS = [e for e in THREAD if e.lossless]


def _problem(experiment: Experiment, data: UsageData) -> str | None:
    payload = experiment.encode(data)
    msgspec.json.decode(payload)  # well-formed JSON
    return first_difference(data, experiment.decode(payload, data.source))


def test_the_thread_experiments_are_registered_by_id_and_name() -> None:
    names = {e.id: e.name for e in THREAD}
    assert names == {
        "01": "no-read-object",
        "02": "no-read-object-or-uom",
        "03": "no-actual-reads",
        "04": "no-zero-reads",
        "05": "no-zero-reads-or-read-object",
        "06": "nested-registers",
        "07": "nested-registers-no-read-object",
    }
    assert [e.id for e in THREAD if not e.lossless] == ["03"]
    assert all(e.rationale and "\n" not in e.rationale for e in THREAD)


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("experiment", LOSSLESS, ids=lambda e: f"{e.id}-{e.name}")
@settings(max_examples=15, deadline=None)
@given(
    nmis=st.integers(1, 3),
    days=st.integers(1, 4),
    interval=st.sampled_from([5, 15, 30]),
    seed=st.integers(0, 2**32),
    solar=st.booleans(),
    controlled_load=st.sampled_from([None, True, False]),
)
def test_a_generated_file_round_trips(
    experiment: Experiment,
    nmis: int,
    days: int,
    interval: int,
    seed: int,
    solar: bool,
    controlled_load: bool | None,
) -> None:
    generated = generate_days(
        nmis=nmis,
        days=days,
        interval=interval,
        seed=seed,
        solar=solar,
        controlled_load=controlled_load,
    )
    assert _problem(experiment, from_days("generated", generated)) is None


@pytest.mark.parametrize("experiment", LOSSLESS, ids=lambda e: f"{e.id}-{e.name}")
@settings(max_examples=25, deadline=None)
@given(interval_days())
def test_any_model_round_trips(experiment: Experiment, days: list[IntervalDay]) -> None:
    assert _problem(experiment, from_days("arbitrary", days)) is None


@pytest.mark.parametrize("experiment", LOSSLESS, ids=lambda e: f"{e.id}-{e.name}")
def test_registers_of_one_nmi_with_different_intervals_round_trip(experiment: Experiment) -> None:
    data = from_days("generated", generate_days(nmis=2, days=3, interval=30, seed=5))
    # Export read at 15 minutes beside 30-minute import: nesting must keep both lengths.
    reads = [
        msgspec.structs.replace(read, interval_length=15, values=read.values * 2)
        if read.export
        else read
        for read in data.reads
    ]
    assert any(read.interval_length == 15 for read in reads)
    assert _problem(experiment, UsageData("mixed", reads)) is None


def test_no_actual_reads_is_the_aggregate_alone() -> None:
    data = from_days("generated", generate_days(nmis=1, days=2, interval=15, seed=1))
    payload = msgspec.json.decode(experiments.REGISTRY["03"].encode(data))
    interval = payload["data"]["reads"][0]["intervalRead"]
    assert set(interval) == {"aggregateValue", "readIntervalLength"}
    with pytest.raises(NotImplementedError, match="lossy"):
        experiments.REGISTRY["03"].decode(b"{}", "x")


# -- the shared pieces ---------------------------------------------------------------------


def test_positions_are_written_as_the_thread_wrote_them() -> None:
    assert range_strings([(1, 31), (59, 59), (61, 96)]) == ["1-31,59,61-96"]
    assert range_strings([]) == []
    assert runs_from(["1-30,53,56,59,61-96"]) == [(1, 30), (53, 53), (56, 56), (59, 59), (61, 96)]
    assert runs_from(["7-10"]) == [(7, 10)]
    assert runs_from([]) == []


def test_zero_runs_and_their_restoration() -> None:
    values = [0.0, 0.0, 1.5, 0.0, 2.0, 0.0]
    keep, runs = zero_runs(values, [])
    assert runs == [(1, 2), (4, 4), (6, 6)]
    kept = [v for v, k in zip(values, keep, strict=True) if k]
    assert kept == [1.5, 2.0]
    assert with_removed(kept, runs, 0.0) == values


# -- the thread's findings on the bundled sample, gzip 6 -----------------------------------


@pytest.fixture(scope="module")
def gzip_sizes() -> dict[str, int]:
    data = load(SAMPLE)
    chosen = experiments.experiments([f"0{n}" for n in range(8)])
    result = measure_all(data, chosen, parse("gzip:6"), CostModel())
    assert [r.id for r in result.failed] == []
    return {r.id: r.compressed["gzip-6"] for r in result.experiments}


def test_plain_number_arrays_shrink_the_payload(gzip_sizes: dict[str, int]) -> None:
    assert gzip_sizes["01"] < gzip_sizes["00"]


def test_leaving_out_the_unit_shrinks_it_a_little_more(gzip_sizes: dict[str, int]) -> None:
    assert gzip_sizes["02"] < gzip_sizes["01"]


def test_the_aggregate_alone_is_far_smaller_than_any_other(gzip_sizes: dict[str, int]) -> None:
    assert gzip_sizes["03"] < 0.2 * gzip_sizes["00"]
    assert gzip_sizes["03"] == min(gzip_sizes.values())


def test_leaving_out_zero_reads_barely_helps(gzip_sizes: dict[str, int]) -> None:
    assert 0.95 * gzip_sizes["00"] < gzip_sizes["04"] < gzip_sizes["00"]
    assert gzip_sizes["05"] < gzip_sizes["04"]


def test_nesting_registers_helps_and_number_arrays_help_it_more(
    gzip_sizes: dict[str, int],
) -> None:
    assert gzip_sizes["06"] < gzip_sizes["00"]
    assert gzip_sizes["07"] < gzip_sizes["06"]
