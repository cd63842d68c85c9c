"""The CDR energy usage payload (`EnergyUsageListResponse`, Consumer Data Standards v1.36.0).

Field names are the standard's (camelCase via ``rename``); optional fields are omitted when
unset, never written as null. One encoder, built once, writes every payload. The response
around the reads is written by ``pages.write_response`` from already encoded reads, so it has
no Struct here.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Quality = Literal["ACTUAL", "SUBSTITUTE", "FINAL_SUBSTITUTE"]
IntervalReadsMode = Literal["NONE", "MIN_30", "FULL"]


class _Camel(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """Keyword-only, so fields can stand in the standard's order whatever their defaults."""


class ReadQuality(_Camel, kw_only=True):
    start_interval: int
    end_interval: int
    quality: Quality


class IntervalReadPayload(_Camel, kw_only=True):
    read_interval_length: int | None = None
    # Raw: exact decimal text (see usage.py and exact.py), never a rounded float.
    aggregate_value: float | msgspec.Raw
    interval_reads: list[float | msgspec.Raw] | msgspec.Raw | None = None
    read_qualities: list[ReadQuality] | None = None


class BasicReadPayload(_Camel, kw_only=True):
    quality: Quality | None = None
    value: float


class EnergyUsageRead(_Camel, kw_only=True):
    service_point_id: str
    register_id: str | None = None
    register_suffix: str
    meter_id: str | None = None
    controlled_load: bool | None = None
    read_start_date: str
    read_end_date: str | None = None
    unit_of_measure: str | None = None
    read_utype: Literal["basicRead", "intervalRead"] = msgspec.field(name="readUType")
    basic_read: BasicReadPayload | None = None
    interval_read: IntervalReadPayload | None = None


class LinksPaginated(_Camel, kw_only=True):
    self: str
    first: str | None = None
    prev: str | None = None
    next: str | None = None
    last: str | None = None


class MetaPaginated(_Camel, kw_only=True):
    total_records: int
    total_pages: int


ENCODER = msgspec.json.Encoder()
