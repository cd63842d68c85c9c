"""06 nested-registers: one record per NMI per day, its registers nested under their suffix."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.thread_shapes import Form, NestedShape


@register
class NestedRegisters(NestedShape):
    id = "06"
    name = "nested-registers"
    rationale = "the thread's nesting: one record per NMI per day for all its registers"
    form = Form(objects=True, without_zeros=False)
