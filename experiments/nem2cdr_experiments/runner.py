"""Running experiments: encode, prove the round trip, compress with every codec, measure pages.

The data arrives one NMI at a time; every experiment encodes each part into its payload as it
comes (``Experiment.encode_part``), and the payload's bytes are counted and compressed as they
are produced, never held whole. Each part is decoded back at once and compared with what was
encoded: the round trip streams too. When the caller allows several workers, the experiments
are shared among forked processes; by default, one process.
"""

from __future__ import annotations

import multiprocessing
import operator
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import BinaryIO

import msgspec

from nem2cdr.pages import page_count
from nem2cdr.parallel import Workers, worker_count
from nem2cdr_experiments.base import Experiment, NotApplicable
from nem2cdr_experiments.codecs import ONE_CALL_LIMIT, Codec, Sizes
from nem2cdr_experiments.cost import Cost, CostModel, CpuCost, ServedCost, ServedCpu, cost, cpu_cost
from nem2cdr_experiments.data import (
    DayRead,
    InMemory,
    OnProgress,
    Parts,
    Prepared,
    Totals,
    UsageData,
)

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
    roundtrip: str  # "ok", "failed" or "n/a" (lossy by design, or not applicable)
    raw_bytes: int
    compressed: dict[str, int]  # codec label -> bytes
    encode_ms: float
    decode_ms: float | None
    change_raw: float | None = None  # against experiment 00, percent
    change: dict[str, float] = msgspec.field(default_factory=dict)  # per codec, percent
    pages: list[PageSizes] = msgspec.field(default_factory=list)
    cost: dict[str, Cost] = msgspec.field(default_factory=dict)  # per codec
    roundtrip_problem: str | None = None
    not_applicable: str | None = None  # why the experiment cannot encode this file: no sizes
    cpu: CpuCost | None = None  # CPU per response and cores at the model's request rate
    # --thread-compat only: the gzip change against 00 the 2022 thread published (None: the
    # sources do not give it; see thread_compat.PUBLISHED_GZIP_CHANGE)
    published_gzip_change: float | None = None
    # with a load run's measurements (--served-cpu): what the server spends on this response
    served: ServedCost | None = None


class Run(msgspec.Struct, omit_defaults=True):
    file: str
    reads: int
    values: int
    codecs: list[str]
    cost_model: CostModel
    experiments: list[Result]
    thread_compat: bool = False  # 00-07 as the 2022 script wrote them
    seed: int | None = None  # of their key order
    served: ServedCpu | None = None  # the load run the served figures come from

    @property
    def failed(self) -> list[Result]:
        return [result for result in self.experiments if result.roundtrip == "failed"]


PER_PASS = 4  # experiments streamed together in one pass: each holds its codecs' windows
# Data this small makes payloads that stay under the one-call limit (00 writes about 18 bytes a
# value): no codec windows are held, so one pass per process does, as fast as it goes.
SMALL_VALUES = ONE_CALL_LIMIT // 18


def measure_all(
    data: UsageData | Parts,
    experiments: Sequence[Experiment],
    codecs: Sequence[Codec],
    model: CostModel,
    out_dir: Path | None = None,
    workers: Workers = 1,
    on_progress: OnProgress | None = None,
) -> Run:
    """Measure every experiment over the data, one NMI at a time, ``PER_PASS`` experiments in
    each pass (a fixed number of passes: memory holds a few experiments' codecs, not all).

    With ``workers`` above 1 (or "auto") the passes are shared out among forked processes
    (encoding and decoding are Python work that threads would serialise); the results are the
    same either way.
    """
    global _SHARED
    parts = InMemory(data) if isinstance(data, UsageData) else data
    processes = min(worker_count(workers), len(experiments))
    passes = processes if parts.totals.values <= SMALL_VALUES else -(-len(experiments) // PER_PASS)
    passes = max(passes, processes)
    groups = [list(experiments[i::passes]) for i in range(passes)]
    work = parts.totals.reads * passes
    done: dict[str, Result] = {}
    if processes > 1:
        context = multiprocessing.get_context("fork")
        counter = context.Value("q", 0)  # reads measured, summed over the passes
        _SHARED = (parts, groups, list(codecs), out_dir, counter)
        try:
            with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
                futures = [pool.submit(_measure_shared, i) for i in range(len(groups))]
                while wait(futures, timeout=0.2).not_done:
                    if on_progress is not None and work:
                        on_progress(counter.value / work)
                done = {r.id: r for future in futures for r in future.result()}
        finally:
            _SHARED = None
    else:
        tell = None if on_progress is None or not work else _fraction(on_progress, work)
        for group in groups:
            done |= {r.id: r for r in measure(parts, group, codecs, out_dir, tell)}
    results = [done[e.id] for e in experiments]
    _compare_with_baseline(results)
    for result in results:
        result.cost = {label: cost(size, model) for label, size in result.compressed.items()}
        if result.cpu is not None:  # the workers measured the CPU; the model gives the cores
            result.cpu = cpu_cost(result.cpu.encode_ms, result.cpu.compress_ms, model)
    totals = parts.totals
    labels = [c.label for c in codecs]
    return Run(totals.source, totals.reads, totals.values, labels, model, results)


# What forked workers read instead of receiving it pickled: the data can be megabytes, and
# the experiments may be built for the run (--thread-compat), not registered.
_SHARED: (
    tuple[Parts, list[list[Experiment]], list[Codec], Path | None, Synchronized[int]] | None
) = None


def _measure_shared(group: int) -> list[Result]:
    assert _SHARED is not None, "measure_all() sets the shared data before forking"
    parts, groups, codecs, out_dir, counter = _SHARED

    def count(reads: int) -> None:
        with counter.get_lock():
            counter.value += reads

    return measure(parts, groups[group], codecs, out_dir, count)


Progress = Callable[[int], None]  # told how many reads were just measured


def _fraction(on_progress: OnProgress, total: int) -> Progress:
    done = 0

    def count(reads: int) -> None:
        nonlocal done
        done += reads
        on_progress(done / total)

    return count


def measure(
    parts: Parts,
    experiments: Sequence[Experiment],
    codecs: Sequence[Codec],
    out_dir: Path | None = None,
    progress: Progress | None = None,
) -> list[Result]:
    """One pass: each NMI's reads encoded by every experiment, counted, compressed and
    decoded back as they are produced; the first page's reads kept for the page sizes."""
    totals = parts.totals
    first: list[DayRead] = []
    with ExitStack() as stack:
        streams = [
            stack.enter_context(_Stream.opened(e, totals, codecs, out_dir)) for e in experiments
        ]
        needed = {name for stream in streams for name in stream.charged}
        for part in parts.parts():
            if len(first) < max(PAGE_SIZES):
                first += part.reads[: max(PAGE_SIZES) - len(first)]
            prepared = _prepare(part, needed)
            for stream in streams:
                stream.add(part, prepared)
            if progress is not None:
                progress(len(part.reads))
        opening = UsageData(totals.source, first)
        return [stream.result(opening) for stream in streams]


# What computing each shared value costs an experiment that uses it: ``aggregate`` needs
# ``places`` (its decimal places) first.
_CHARGED: dict[Prepared, tuple[Prepared, ...]] = {
    "places": ("places",),
    "aggregate": ("places", "aggregate"),
    "signed_text": ("signed_text",),
}
PrepareTimes = dict[Prepared, tuple[float, float]]  # wall and CPU seconds per value


def charged(experiment: Experiment) -> frozenset[Prepared]:
    """The shared values an experiment pays for: those it uses and what they need."""
    return frozenset(name for use in experiment.prepared for name in _CHARGED[use])


def _prepare(part: UsageData, names: set[Prepared]) -> PrepareTimes:
    """Compute the reads' shared derived values once for every experiment of the pass (in
    ``_CHARGED``'s order, so each is timed alone); the time each took."""
    times: PrepareTimes = {}
    for name in _CHARGED:
        if name in names:
            start, cpu = time.perf_counter(), time.process_time()
            for read in part.reads:
                getattr(read, name)  # a cached_property: computed now, kept on the read
            times[name] = (time.perf_counter() - start, time.process_time() - cpu)
    return times


class _Stream:
    """One experiment's payload as it is produced: timed, written, sized, proven."""

    def __init__(
        self, experiment: Experiment, totals: Totals, codecs: Sequence[Codec], out: BinaryIO | None
    ) -> None:
        self.experiment, self.totals, self.codecs, self.out = experiment, totals, codecs, out
        self.sizes = Sizes(codecs)
        self.charged = charged(experiment)
        self.encode_seconds = self.decode_seconds = self.encode_cpu = 0.0
        self.records = 0  # reads proven so far: where a difference is, in the whole payload
        self.empty = True
        self.broken: str | None = None  # the encoder raised: no payload
        self.not_applicable: str | None = None  # the data is not for this experiment
        self.problem: str | None = None  # the first round-trip difference
        self.undecodable = False  # the decoder raised: no decode time to report
        start, cpu = time.perf_counter(), time.process_time()
        try:
            self.head, self.tail = experiment.frame(totals)
        except Exception as exc:  # a broken encoder is a failed experiment, not a failed run
            self.broken = f"encode raised {type(exc).__name__}: {exc}"
            self.head = self.tail = b""
        self.encode_seconds += time.perf_counter() - start
        self.encode_cpu += time.process_time() - cpu
        self._write(self.head)

    @classmethod
    @contextmanager
    def opened(
        cls, experiment: Experiment, totals: Totals, codecs: Sequence[Codec], out_dir: Path | None
    ) -> Iterator[_Stream]:
        if out_dir is None:
            yield cls(experiment, totals, codecs, None)
            return
        # The folder is staged as a whole (nem2cdr.atomic.staged_folder): the file may grow.
        name = f"{experiment.id}-{experiment.name}{experiment.suffix}"
        with open(out_dir / name, "wb") as out:
            yield cls(experiment, totals, codecs, out)

    def _write(self, piece: bytes) -> None:
        self.sizes.write(piece)
        if self.out is not None:
            self.out.write(piece)

    def add(self, part: UsageData, prepared: PrepareTimes) -> None:
        """Encode, write and prove ``part``; ``prepared`` is what its reads' shared values cost
        (``_prepare``): the experiment is charged for those it uses."""
        if self.broken:
            return
        experiment = self.experiment
        for name in self.charged:
            seconds, cpu = prepared[name]
            self.encode_seconds += seconds
            self.encode_cpu += cpu
        start, cpu = time.perf_counter(), time.process_time()
        try:
            records = experiment.encode_part(part)
        except NotApplicable as exc:
            self.not_applicable = self.broken = str(exc)
            return
        except Exception as exc:
            self.broken = f"encode raised {type(exc).__name__}: {exc}"
            return
        self.encode_seconds += time.perf_counter() - start
        self.encode_cpu += time.process_time() - cpu
        if records:
            self._write(records if self.empty else experiment.separator + records)
            self.empty = False
        if experiment.lossless and self.problem is None:
            self._prove(records, part)
        self.records += len(part.reads)

    def _prove(self, records: bytes, part: UsageData) -> None:
        start = time.perf_counter()
        try:
            back = self.experiment.decode_part(records, part)
        except Exception as exc:  # a decoder that cannot read its own output: a failed round trip
            self.problem = f"decode raised {type(exc).__name__}: {exc}"
            self.undecodable = True
            return
        self.decode_seconds += time.perf_counter() - start
        self.problem = first_difference(part, back, self.records)

    def result(self, first: UsageData) -> Result:
        experiment = self.experiment
        if self.broken:
            return Result(
                experiment.id,
                experiment.name,
                experiment.lossless,
                experiment.rationale,
                "n/a" if self.not_applicable else "failed",
                0,
                {},
                0.0,
                None,
                roundtrip_problem=None if self.not_applicable else self.broken,
                not_applicable=self.not_applicable,
            )
        self._write(self.tail)
        pages = []
        for page_size in PAGE_SIZES:
            page = experiment.first_page(first, self.totals, page_size)
            if page is not None:
                sizes = {codec.label: len(codec.compress(page)) for codec in self.codecs}
                count = page_count(self.totals.reads, page_size)
                pages.append(PageSizes(page_size, count, len(page), sizes))
        if not experiment.lossless:
            roundtrip, decode_ms = "n/a", None
        else:
            roundtrip = "ok" if self.problem is None else "failed"
            decode_ms = None if self.undecodable else round(self.decode_seconds * 1000, 2)
        return Result(
            experiment.id,
            experiment.name,
            experiment.lossless,
            experiment.rationale,
            roundtrip,
            self.sizes.raw,
            self.sizes.close(),
            round(self.encode_seconds * 1000, 2),
            decode_ms,
            pages=pages,
            roundtrip_problem=self.problem,
            cpu=CpuCost(round(self.encode_cpu * 1000, 3), self.sizes.cpu_ms(), {}, {}),
        )


def first_difference(expected: UsageData, actual: UsageData, offset: int = 0) -> str | None:
    """Where ``actual`` first differs from ``expected`` (registers, dates, values, quality);
    ``offset`` is where ``expected``'s first read sits in the whole payload."""
    if len(expected.reads) != len(actual.reads):
        return f"{len(actual.reads)} reads decoded, {len(expected.reads)} encoded"
    # One C-level comparison of the carried fields per read; the field is named only on a miss.
    if list(map(_CARRIED, expected.reads)) == list(map(_CARRIED, actual.reads)):
        return None
    for index, (want, got) in enumerate(zip(expected.reads, actual.reads, strict=True), offset):
        for name in _CARRIED_FIELDS:
            if getattr(want, name) != getattr(got, name):
                return f"read {index} ({want.nmi} {want.suffix} {want.date}): {name} differs"
    return None


# What a lossless experiment must carry (meter serial and unit are identity it may leave out).
_CARRIED_FIELDS = ("nmi", "register_id", "suffix", "date", "interval_length", "values", "qualities")
_CARRIED = operator.attrgetter(*_CARRIED_FIELDS)


def _compare_with_baseline(results: list[Result]) -> None:
    baseline = next((r for r in results if r.id == "00"), None)
    if baseline is None:
        return
    for result in results:
        if result.not_applicable:
            continue
        result.change_raw = _percent(result.raw_bytes, baseline.raw_bytes)
        result.change = {
            label: _percent(size, baseline.compressed.get(label, 0))
            for label, size in result.compressed.items()
            if baseline.compressed.get(label)
        }


def _percent(size: int, base: int) -> float:
    return round((size - base) / base * 100, 2) if base else 0.0
