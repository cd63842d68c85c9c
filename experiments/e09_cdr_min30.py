"""09 cdr-min30: the adopted standard, interval-reads=MIN_30 (lossy: half-hour sums)."""

from __future__ import annotations

from experiments.base import Experiment, register
from experiments.cdr_shapes import response
from experiments.data import UsageData


@register
class CdrMin30(Experiment):
    id = "09"
    name = "cdr-min30"
    lossless = False
    rationale = "the adopted standard at 30 minutes: lossy for 5- and 15-minute data by design"

    def encode(self, data: UsageData) -> bytes:
        return response(data, "MIN_30")[0]

    def pages(self, data: UsageData, page_size: int) -> list[bytes] | None:
        return response(data, "MIN_30", page_size)
