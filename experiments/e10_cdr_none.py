"""10 cdr-none: the adopted standard's default, interval-reads=NONE (aggregate only: lossy)."""

from __future__ import annotations

from experiments.base import Experiment, register
from experiments.cdr_shapes import response
from experiments.data import UsageData


@register
class CdrNone(Experiment):
    id = "10"
    name = "cdr-none"
    lossless = False
    rationale = "the standard's default: one aggregate per day, no intervals (lossy by design)"

    def encode(self, data: UsageData) -> bytes:
        return response(data, "NONE")[0]

    def pages(self, data: UsageData, page_size: int) -> list[bytes] | None:
        return response(data, "NONE", page_size)
