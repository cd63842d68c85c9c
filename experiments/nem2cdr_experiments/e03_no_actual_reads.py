"""03 no-actual-reads: 00 without ``intervalReads``, the daily aggregate alone (lossy)."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.thread_shapes import FlatShape


@register
class NoActualReads(FlatShape):
    id = "03"
    name = "no-actual-reads"
    lossless = False
    rationale = "the thread's daily-aggregate idea: no intervals at all (lossy by design)"
    form = None
    prepared = ("aggregate",)
