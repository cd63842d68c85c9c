"""04 no-zero-reads: 00's read objects less the zero reads, listed in ``removedReads``."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.thread_shapes import FlatShape, Form


@register
class NoZeroReads(FlatShape):
    id = "04"
    name = "no-zero-reads"
    rationale = "the thread's guess that zeros cost most: drop them, list their positions as ranges"
    form = Form(objects=True, without_zeros=True)
