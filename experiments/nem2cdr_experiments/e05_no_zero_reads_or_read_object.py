"""05 no-zero-reads-or-read-object: 04 and 01 together."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.thread_shapes import FlatShape, Form


@register
class NoZeroReadsOrReadObject(FlatShape):
    id = "05"
    name = "no-zero-reads-or-read-object"
    rationale = "04 and 01 together: plain numbers less the zeros; zeros and substitutes as ranges"
    form = Form(objects=False, without_zeros=True)
