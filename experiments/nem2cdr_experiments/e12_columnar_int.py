"""12 columnar-int: one record per register, its days as rows of integers in the smallest unit."""

from __future__ import annotations

from nem2cdr_experiments import columnar
from nem2cdr_experiments.base import Experiment, register
from nem2cdr_experiments.data import UsageData


@register
class ColumnarInt(Experiment):
    id = "12"
    name = "columnar-int"
    rationale = (
        "register identity once, not per day, and values as integers in the smallest unit "
        "(36 Wh, not 0.036 kWh), scale found exactly per register"
    )
    prepared = ("places",)  # the scale; values are written as integers

    def encode(self, data: UsageData) -> bytes:
        return columnar.encode(data, delta=False)

    def decode(self, payload: bytes, source: str) -> UsageData:
        return columnar.decode(payload, source, delta=False)
