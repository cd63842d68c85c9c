"""14 columnar-int-delta: experiment 12 with each day's integers delta coded."""

from __future__ import annotations

from nem2cdr_experiments import columnar
from nem2cdr_experiments.base import Experiment, register
from nem2cdr_experiments.data import UsageData


@register
class ColumnarIntDelta(Experiment):
    id = "14"
    name = "columnar-int-delta"
    rationale = (
        "12 with each day as its first value then differences: does pre-coding help a "
        "general-purpose compressor on smooth load and solar curves?"
    )
    prepared = ("places",)  # the scale; values are written as integers

    def encode(self, data: UsageData) -> bytes:
        return columnar.encode(data, delta=True)

    def decode(self, payload: bytes, source: str) -> UsageData:
        return columnar.decode(payload, source, delta=True)
