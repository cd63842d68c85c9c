"""00 baseline: the pre-2022 standard's shape, one ``{"value": v}`` object per interval."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.thread_shapes import FlatShape, Form


@register
class Baseline(FlatShape):
    id = "00"
    name = "baseline"
    rationale = "the thread's starting point: the pre-2022 shape with a read object per interval"
    form = Form(objects=True, without_zeros=False)
