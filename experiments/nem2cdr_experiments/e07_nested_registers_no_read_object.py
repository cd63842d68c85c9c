"""07 nested-registers-no-read-object: 06 and 01 together."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.thread_shapes import Form, NestedShape


@register
class NestedRegistersNoReadObject(NestedShape):
    id = "07"
    name = "nested-registers-no-read-object"
    rationale = "06 and 01 together: registers nested per day, plain numbers, substitutes as ranges"
    form = Form(objects=False, without_zeros=False)
