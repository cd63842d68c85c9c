"""The payload-size benchmark suite: every encoding of the same meter data, measured.

Each ``eNN_*.py`` module defines one experiment and registers it by id (see ``base``); this
package imports them all. ``run`` is what ``nem2cdr experiments`` does::

    import nem2cdr_experiments
    report = nem2cdr_experiments.run("NEM12#...csv", only=["08", "11"], workers="auto")
    report.experiments[0].raw_bytes
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Callable, Sequence
from functools import partial

from nem2cdr.atomic import staged_folder
from nem2cdr.parallel import Workers
from nem2cdr.sources import Source
from nem2cdr_experiments.base import REGISTRY, Experiment
from nem2cdr_experiments.cdr_shapes import CdrShape
from nem2cdr_experiments.codecs import parse as parse_codecs
from nem2cdr_experiments.cost import CostModel, ServedCpu, read_served, served_cost
from nem2cdr_experiments.data import LoadError, opened
from nem2cdr_experiments.outputs import OutputError, check_file, check_folder
from nem2cdr_experiments.runner import Result, Run, measure_all
from nem2cdr_experiments.thread_compat import PUBLISHED_GZIP_CHANGE, compat

for _module in pkgutil.iter_modules(__path__):
    if re.fullmatch(r"e\d\d_\w+", _module.name):
        importlib.import_module(f"{__name__}.{_module.name}")


def experiments(only: Sequence[str] | None = None) -> list[Experiment]:
    """The registered experiments in id order, or those named (by id, name or a range of ids
    such as ``00-07``, both ends included)."""
    ordered = [REGISTRY[key] for key in sorted(REGISTRY)]
    if not only:
        return ordered
    wanted = {item.strip() for item in only if item.strip()}
    if not wanted:
        raise ValueError("--only names no experiment")
    matched = {item: {e.id for e in ordered if _matches(e, item)} for item in wanted}
    unknown = {item for item, ids in matched.items() if not ids}
    chosen = [e for e in ordered if any(e.id in ids for ids in matched.values())]
    if unknown:
        known = ", ".join(f"{e.id} {e.name}" for e in ordered)
        raise ValueError(f"unknown experiment {', '.join(sorted(unknown))}; there are: {known}")
    return chosen


def _matches(experiment: Experiment, item: str) -> bool:
    if item in (experiment.id, experiment.name):
        return True
    span = _id_range(item)
    return span is not None and int(experiment.id) in span


def _id_range(item: str) -> range | None:
    """The ids ``00-07`` spans, as numbers (None: not a range of two ids, first <= last)."""
    first, dash, last = item.partition("-")
    if not (dash and first.isdigit() and last.isdigit()) or int(first) > int(last):
        return None
    return range(int(first), int(last) + 1)


def run(
    source: Source,
    *,
    only: str | Sequence[str] | None = None,
    codecs: str = "default",
    model: CostModel | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    workers: Workers = 1,
    on_progress: Callable[[str, float], None] | None = None,
    thread_compat: bool = False,
    seed: int = 0,
    served: ServedCpu | None = None,
) -> Run:
    """Load a NEM12 file and run the experiments on it: what ``nem2cdr experiments`` does.

    ``only`` names experiments by id or name (a list, or one text "00,08" as the command
    takes it); ``codecs`` is "default", "max" or
    "name:level,..."; ``out_dir`` receives each payload. ``on_progress(stage, fraction)`` hears
    how far the run is ("reading", then "measuring"). Raises ``LoadError`` when the file has
    errors, ``ValueError`` for an unknown experiment or codec and ``OutputError`` (at once) for
    an ``out_dir`` that cannot be written. ``thread_compat`` writes 00-07 as the 2022
    thread's script wrote them (``thread_compat.py``), key order shuffled from ``seed``.
    ``served`` (``read_served``: a load run of ``nem2cdr serve``) adds what the server spends
    on the responses of the adopted standard's experiments, per codec it measured.
    """
    if isinstance(only, str):  # a text is a sequence too: "00,08" must not mean "0", ",", "8"
        only = only.split(",")
    chosen, parsed = experiments(only), parse_codecs(codecs)  # usage errors before the reading
    if thread_compat:
        chosen = [compat(experiment, seed) for experiment in chosen]
    if out_dir is not None:
        check_folder(out_dir)
    model = model or CostModel()
    reading = measuring = None
    if on_progress is not None:
        reading, measuring = partial(on_progress, "reading"), partial(on_progress, "measuring")
    with opened(source, reading) as store:
        if out_dir is None:
            result = measure_all(store, chosen, parsed, model, None, workers, measuring)
        else:
            with staged_folder(out_dir) as staging:  # the payloads appear all at once, or none
                result = measure_all(store, chosen, parsed, model, staging, workers, measuring)
    if thread_compat:
        result.thread_compat, result.seed = True, seed
        for measured in result.experiments:
            measured.published_gzip_change = PUBLISHED_GZIP_CHANGE.get(measured.id)
    if served is not None:
        result.served = served
        levels = {codec.label: (codec.name, codec.level) for codec in parsed}
        for shape, measured in zip(chosen, result.experiments, strict=True):
            if isinstance(shape, CdrShape) and not measured.not_applicable:
                measured.served = served_cost(served, shape.mode, levels, result.values, model)
    return result


__all__ = [
    "REGISTRY",
    "CostModel",
    "Experiment",
    "LoadError",
    "OutputError",
    "Result",
    "Run",
    "ServedCpu",
    "check_file",
    "experiments",
    "read_served",
    "run",
]
