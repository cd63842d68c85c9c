"""Running experiments: encode, prove the round trip, compress with every codec, measure pages.

Encoding and decoding are Python work, so when the caller allows several workers, experiments
run in forked worker processes; each measures its experiment whole. By default, one process.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec

from nem2cdr.atomic import write_atomically
from nem2cdr.parallel import Workers, worker_count
from nem2cdr_experiments.base import REGISTRY, Experiment
from nem2cdr_experiments.codecs import Codec
from nem2cdr_experiments.cost import Cost, CostModel, cost
from nem2cdr_experiments.data import UsageData

PAGE_SIZES = (25, 1000)


class PageSizes(msgspec.Struct, frozen=True):
    page_size: int
    pages: int
    first_page_raw_bytes: int
    first_page_compressed: dict[str, int]


class Result(msgspec.Struct):
    id: str
    name: str
    lossless: bool
    rationale: str
    roundtrip: str  # "ok", "failed" or "n/a" (lossy by design)
    raw_bytes: int
    compressed: dict[str, int]  # codec label -> bytes
    encode_ms: float
    decode_ms: float | None
    change_raw: float | None = None  # against experiment 00, percent
    change: dict[str, float] = msgspec.field(default_factory=dict)  # per codec, percent
    pages: list[PageSizes] = msgspec.field(default_factory=list)
    cost: dict[str, Cost] = msgspec.field(default_factory=dict)  # per codec
    roundtrip_problem: str | None = None


class Run(msgspec.Struct):
    file: str
    reads: int
    values: int
    codecs: list[str]
    cost_model: CostModel
    experiments: list[Result]

    @property
    def failed(self) -> list[Result]:
        return [result for result in self.experiments if result.roundtrip == "failed"]


def measure_all(
    data: UsageData,
    experiments: Sequence[Experiment],
    codecs: Sequence[Codec],
    model: CostModel,
    out_dir: Path | None = None,
    workers: Workers = 1,
) -> Run:
    """Measure every experiment; with ``workers`` above 1 (or "auto"), in parallel in forked
    processes (encoding and decoding are Python work that threads would serialise)."""
    global _SHARED
    processes = min(worker_count(workers), len(experiments))
    if processes > 1:
        _SHARED = (data, list(codecs), out_dir)
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
                results = list(pool.map(_measure_shared, [e.id for e in experiments]))
        finally:
            _SHARED = None
    else:
        results = [measure(experiment, data, codecs, out_dir) for experiment in experiments]
    _compare_with_baseline(results)
    for result in results:
        result.cost = {label: cost(size, model) for label, size in result.compressed.items()}
    return Run(data.source, len(data.reads), data.values, [c.label for c in codecs], model, results)


# What forked workers read instead of receiving it pickled: the data can be megabytes.
_SHARED: tuple[UsageData, list[Codec], Path | None] | None = None


def _measure_shared(experiment_id: str) -> Result:
    assert _SHARED is not None, "measure_all() sets the shared data before forking"
    data, codecs, out_dir = _SHARED
    return measure(REGISTRY[experiment_id], data, codecs, out_dir)


def measure(
    experiment: Experiment, data: UsageData, codecs: Sequence[Codec], out_dir: Path | None = None
) -> Result:
    """One experiment: encode (timed), compress with each codec, round trip, first pages."""
    start = time.perf_counter()
    try:
        payload = experiment.encode(data)
    except Exception as exc:  # a broken encoder is a failed experiment, not a failed run
        return Result(
            experiment.id,
            experiment.name,
            experiment.lossless,
            experiment.rationale,
            "failed",
            0,
            {},
            0.0,
            None,
            roundtrip_problem=f"encode raised {type(exc).__name__}: {exc}",
        )
    encode_ms = (time.perf_counter() - start) * 1000
    if out_dir is not None:
        write_atomically(out_dir / f"{experiment.id}-{experiment.name}{experiment.suffix}", payload)
    roundtrip, problem, decode_ms = _roundtrip(experiment, data, payload)
    pages = []
    for page_size in PAGE_SIZES:
        split = experiment.pages(data, page_size)
        if split:
            first = split[0]
            sizes = {codec.label: len(codec.compress(first)) for codec in codecs}
            pages.append(PageSizes(page_size, len(split), len(first), sizes))
    return Result(
        experiment.id,
        experiment.name,
        experiment.lossless,
        experiment.rationale,
        roundtrip,
        len(payload),
        {codec.label: len(codec.compress(payload)) for codec in codecs},
        round(encode_ms, 2),
        decode_ms,
        pages=pages,
        roundtrip_problem=problem,
    )


def _roundtrip(
    experiment: Experiment, data: UsageData, payload: bytes
) -> tuple[str, str | None, float | None]:
    if not experiment.lossless:
        return "n/a", None, None
    start = time.perf_counter()
    try:
        back = experiment.decode(payload, data.source)
    except Exception as exc:  # a decoder that cannot read its own output is a failed round trip
        return "failed", f"decode raised {type(exc).__name__}: {exc}", None
    decode_ms = round((time.perf_counter() - start) * 1000, 2)
    problem = first_difference(data, back)
    return ("ok" if problem is None else "failed"), problem, decode_ms


def first_difference(expected: UsageData, actual: UsageData) -> str | None:
    """Where ``actual`` first differs from ``expected`` (registers, dates, values, quality)."""
    if len(expected.reads) != len(actual.reads):
        return f"{len(actual.reads)} reads decoded, {len(expected.reads)} encoded"
    fields = ("nmi", "register_id", "suffix", "date", "interval_length", "values", "qualities")
    for index, (want, got) in enumerate(zip(expected.reads, actual.reads, strict=True)):
        for name in fields:
            if getattr(want, name) != getattr(got, name):
                return f"read {index} ({want.nmi} {want.suffix} {want.date}): {name} differs"
    return None


def _compare_with_baseline(results: list[Result]) -> None:
    baseline = next((r for r in results if r.id == "00"), None)
    if baseline is None:
        return
    for result in results:
        result.change_raw = _percent(result.raw_bytes, baseline.raw_bytes)
        result.change = {
            label: _percent(size, baseline.compressed.get(label, 0))
            for label, size in result.compressed.items()
            if baseline.compressed.get(label)
        }


def _percent(size: int, base: int) -> float:
    return round((size - base) / base * 100, 2) if base else 0.0
