"""Running experiments: encode, prove the round trip, compress with every codec, measure pages.

Encoding is Python work; the compressions (zlib, zstd, brotli all release the GIL) run in a
thread pool as wide as the machine, so a run uses both cores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import msgspec

from experiments.base import Experiment
from experiments.codecs import Codec
from experiments.cost import Cost, CostModel, cost
from experiments.data import UsageData

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


def run(
    data: UsageData,
    experiments: Sequence[Experiment],
    codecs: Sequence[Codec],
    model: CostModel,
    out_dir: Path | None = None,
) -> Run:
    workers = max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = [_measure(experiment, data, codecs, pool, out_dir) for experiment in experiments]
        results = [_finish(*item) for item in pending]
    _compare_with_baseline(results)
    for result in results:
        result.cost = {label: cost(size, model) for label, size in result.compressed.items()}
    return Run(data.source, len(data.reads), data.values, [c.label for c in codecs], model, results)


Sizes = dict[str, "Future[int]"]


def _measure(
    experiment: Experiment,
    data: UsageData,
    codecs: Sequence[Codec],
    pool: ThreadPoolExecutor,
    out_dir: Path | None,
) -> tuple[Result, Sizes, list[tuple[int, int, int, Sizes]]]:
    start = time.perf_counter()
    payload = experiment.encode(data)
    encode_ms = (time.perf_counter() - start) * 1000
    sizes = {codec.label: pool.submit(_size, codec, payload) for codec in codecs}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{experiment.id}-{experiment.name}.json").write_bytes(payload)
    roundtrip, problem, decode_ms = _roundtrip(experiment, data, payload)
    page_jobs = []
    for page_size in PAGE_SIZES:
        pages = experiment.pages(data, page_size)
        if pages:
            first = pages[0]
            jobs = {codec.label: pool.submit(_size, codec, first) for codec in codecs}
            page_jobs.append((page_size, len(pages), len(first), jobs))
    result = Result(
        experiment.id, experiment.name, experiment.lossless, experiment.rationale, roundtrip,
        len(payload), {}, round(encode_ms, 2), decode_ms, roundtrip_problem=problem,
    )  # fmt: skip
    return result, sizes, page_jobs


def _size(codec: Codec, payload: bytes) -> int:
    return len(codec.compress(payload))


def _finish(result: Result, sizes: Sizes, page_jobs: list[tuple[int, int, int, Sizes]]) -> Result:
    result.compressed = {label: future.result() for label, future in sizes.items()}
    result.pages = [
        PageSizes(size, count, raw, {label: job.result() for label, job in jobs.items()})
        for size, count, raw, jobs in page_jobs
    ]
    return result


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
            label: _percent(size, baseline.compressed[label])
            for label, size in result.compressed.items()
            if baseline.compressed.get(label)
        }


def _percent(size: int, base: int) -> float:
    return round((size - base) / base * 100, 2) if base else 0.0
