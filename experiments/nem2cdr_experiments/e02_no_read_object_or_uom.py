"""02 no-read-object-or-uom: 01 without ``unitOfMeasure`` (assumed kWh)."""

from __future__ import annotations

from nem2cdr_experiments.base import register
from nem2cdr_experiments.thread_shapes import FlatShape, Form


@register
class NoReadObjectOrUom(FlatShape):
    id = "02"
    name = "no-read-object-or-uom"
    rationale = "01 without unitOfMeasure, which the thread assumed is nearly always kWh"
    form = Form(objects=False, without_zeros=False)
    unit_of_measure = False
