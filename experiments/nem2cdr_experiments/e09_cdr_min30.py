"""09 cdr-min30: the adopted standard, interval-reads=MIN_30 (lossy: half-hour sums)."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.cdr_shapes import CdrShape


@register
class CdrMin30(CdrShape):
    id = "09"
    name = "cdr-min30"
    lossless = False
    rationale = "the adopted standard at 30 minutes: lossy for 5- and 15-minute data by design"
    mode = "MIN_30"
    prepared = ("aggregate",)  # its sums are its own
