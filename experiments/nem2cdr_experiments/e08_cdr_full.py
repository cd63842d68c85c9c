"""08 cdr-full: the standard adopted in 2022, interval-reads=FULL."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.cdr_shapes import CdrShape, decode_full
from nem2cdr_experiments.data import UsageData


@register
class CdrFull(CdrShape):
    id = "08"
    name = "cdr-full"
    rationale = "the adopted standard: number arrays, readQualities ranges (interval-reads=FULL)"
    mode = "FULL"

    def decode(self, payload: bytes, source: str) -> UsageData:
        return decode_full(payload, source)
