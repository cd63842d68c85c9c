"""01 no-read-object: 00 with plain number arrays and substitutes as range strings."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.thread_shapes import FlatShape, Form


@register
class NoReadObject(FlatShape):
    id = "01"
    name = "no-read-object"
    rationale = 'the thread\'s first cut: plain number arrays, substitutes as ranges like "7-10"'
    form = Form(objects=False, without_zeros=False)
