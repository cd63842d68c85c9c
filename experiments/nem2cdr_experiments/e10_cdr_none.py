"""10 cdr-none: the adopted standard's default, interval-reads=NONE (aggregate only: lossy)."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.cdr_shapes import CdrShape


@register
class CdrNone(CdrShape):
    id = "10"
    name = "cdr-none"
    lossless = False
    rationale = "the standard's default: one aggregate per day, no intervals (lossy by design)"
    mode = "NONE"
    prepared = ("aggregate",)
