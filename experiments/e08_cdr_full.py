"""08 cdr-full: the standard adopted in 2022, interval-reads=FULL."""

from __future__ import annotations

from experiments.base import Experiment, register
from experiments.cdr_shapes import decode_full, response
from experiments.data import UsageData


@register
class CdrFull(Experiment):
    id = "08"
    name = "cdr-full"
    rationale = "the adopted standard: number arrays, readQualities ranges (interval-reads=FULL)"

    def encode(self, data: UsageData) -> bytes:
        return response(data, "FULL")[0]

    def decode(self, payload: bytes, source: str) -> UsageData:
        return decode_full(payload, source)

    def pages(self, data: UsageData, page_size: int) -> list[bytes] | None:
        return response(data, "FULL", page_size)
