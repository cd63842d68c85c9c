"""The payload-size benchmark suite: every encoding of the same meter data, measured.

Each ``eNN_*.py`` module defines one experiment and registers it by id (see ``base``); this
package imports them all. ``run_file`` is what ``nem2cdr experiments`` does.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Sequence
from pathlib import Path

from nem2cdr_experiments.base import REGISTRY, Experiment
from nem2cdr_experiments.codecs import parse as parse_codecs
from nem2cdr_experiments.cost import CostModel
from nem2cdr_experiments.data import LoadError, load
from nem2cdr_experiments.runner import Run, run

for _module in pkgutil.iter_modules(__path__):
    if re.fullmatch(r"e\d\d_\w+", _module.name):
        importlib.import_module(f"{__name__}.{_module.name}")


def experiments(only: Sequence[str] | None = None) -> list[Experiment]:
    """The registered experiments in id order, or those named (by id or name)."""
    ordered = [REGISTRY[key] for key in sorted(REGISTRY)]
    if not only:
        return ordered
    wanted = {item.strip() for item in only if item.strip()}
    if not wanted:
        raise ValueError("--only names no experiment")
    chosen = [e for e in ordered if e.id in wanted or e.name in wanted]
    unknown = wanted - {e.id for e in chosen} - {e.name for e in chosen}
    if unknown:
        known = ", ".join(f"{e.id} {e.name}" for e in ordered)
        raise ValueError(f"unknown experiment {', '.join(sorted(unknown))}; there are: {known}")
    return chosen


def run_file(
    source: str | Path,
    only: Sequence[str] | None = None,
    codecs: str = "default",
    model: CostModel | None = None,
    out_dir: Path | None = None,
) -> Run:
    """Load a NEM12 file and run the experiments on it (``LoadError`` if it has errors)."""
    return run(load(source), experiments(only), parse_codecs(codecs), model or CostModel(), out_dir)


__all__ = ["REGISTRY", "CostModel", "Experiment", "LoadError", "Run", "experiments", "run_file"]
