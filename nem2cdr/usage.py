"""One NEM12 day or NEM13 read becomes one CDR ``EnergyUsageRead``, as ``CDR-MAPPING.md`` says.

Values pass through exactly: for interval data the file's own decimal text is reused where it
can be (no float is formatted twice), sums are exact decimals (see ``exact``), export is
negated without ever writing ``-0``.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Literal

import msgspec

from nem2cdr.cdr_model import (
    BasicReadPayload,
    EnergyUsageRead,
    IntervalReadPayload,
    IntervalReadsMode,
    Quality,
    ReadQuality,
)
from nem2cdr.exact import Number, decimal_places, exact_sum, group_sums
from nem2cdr.model import BasicRead, IntervalDay, QualitySpan

# The namespace of the default, deterministic servicePointId: uuid5(namespace, NMI).
DEFAULT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/nem2cdr/servicePointId")
MIN_SECRET = 16
DEFAULT_BASE_URL = "https://data.holder.example/cds-au/v1/energy/electricity/servicepoints/usage"

QUALITY_BY_FLAG: dict[str, Quality] = {
    "A": "ACTUAL",
    "S": "SUBSTITUTE",
    "E": "SUBSTITUTE",
    "N": "SUBSTITUTE",
    "F": "FINAL_SUBSTITUTE",
}
# MIN_30: a half-hour takes the least final quality of its parts.
_RANK: dict[Quality, int] = {"ACTUAL": 0, "FINAL_SUBSTITUTE": 1, "SUBSTITUTE": 2}
_BY_RANK: list[Quality] = ["ACTUAL", "FINAL_SUBSTITUTE", "SUBSTITUTE"]
_DIGITS_AS_D = bytes(ord("d") if chr(byte).isdigit() else byte for byte in range(256))
_SPEC_PLACES = 5  # NUM(15,5): the file text shows whether a day stays within it


class ConvertOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Everything that shapes a payload; the defaults are the standard's and CDR-MAPPING's."""

    interval_reads: IntervalReadsMode = "NONE"
    oldest_date: date | None = None
    newest_date: date | None = None
    service_point_id: Literal["uuid", "nmi"] = "uuid"
    namespace: uuid.UUID = DEFAULT_NAMESPACE
    # Per data recipient: servicePointId = HMAC-SHA256(id_secret, NMI) as a UUID, so two
    # recipients given different secrets cannot link their ids (nor anyone without it the NMI).
    id_secret: bytes | None = None
    export_sign: Literal["negative", "as-is"] = "negative"
    controlled_load: frozenset[str] = frozenset()  # suffixes or register ids
    base_url: str = DEFAULT_BASE_URL

    def __post_init__(self) -> None:
        oldest, newest = self.oldest_date, self.newest_date
        if oldest is not None and newest is not None and oldest > newest:
            raise OptionsError(f"the oldest date {oldest} is after the newest date {newest}")
        if self.id_secret is not None:
            if self.service_point_id == "nmi":
                raise OptionsError("an id secret shapes UUIDs: it means nothing with the NMI as id")
            if self.namespace != DEFAULT_NAMESPACE:
                raise OptionsError("an id secret replaces the namespace: give one or the other")
            if len(self.id_secret) < MIN_SECRET:
                # NMIs are few enough to try them all: only a secret nobody can guess hides them.
                raise OptionsError(f"the id secret must be at least {MIN_SECRET} bytes")


class OptionsError(ValueError):
    """Arguments that contradict each other or the input (a whole response past 1,000 reads):
    the caller's mistake, found before anything is written."""


class ConversionError(ValueError):
    """A record the standard cannot carry as asked (the message names why)."""


def service_point_id(nmi: str, options: ConvertOptions) -> str:
    if options.service_point_id == "nmi":
        return nmi
    if options.id_secret is not None:
        return _keyed_id(nmi, options.id_secret)
    return _uuid_of(nmi, options.namespace)


@lru_cache(maxsize=65536)
def _keyed_id(nmi: str, secret: bytes) -> str:
    """HMAC-SHA256 of the NMI under ``secret``, its first 128 bits as a UUID version 8 (RFC
    9562's custom layout: version and variant bits set, the rest from the hash)."""
    digest = bytearray(hmac.new(secret, nmi.encode(), hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


@lru_cache(maxsize=65536)
def _uuid_of(nmi: str, namespace: uuid.UUID) -> str:
    return str(uuid.uuid5(namespace, nmi))


def in_range(day: date, options: ConvertOptions) -> bool:
    oldest, newest = options.oldest_date, options.newest_date
    return (oldest is None or day >= oldest) and (newest is None or day <= newest)


def _controlled(suffix: str, register: str, options: ConvertOptions) -> bool | None:
    if not options.controlled_load:
        return None  # never guessed: only when the user names them
    return suffix in options.controlled_load or register in options.controlled_load


def interval_record(day: IntervalDay, options: ConvertOptions) -> EnergyUsageRead:
    stream = day.stream
    negate = options.export_sign == "negative" and stream.suffix[:1] == "B"
    values = day.values
    places = _places(day)
    mode = options.interval_reads
    payload = IntervalReadPayload(aggregate_value=exact_sum(values, places, negate))
    if mode == "FULL":
        payload.read_interval_length = stream.interval_length
        payload.interval_reads = _signed(values, negate, day.values_text)
        payload.read_qualities = read_qualities(span_runs(day.qualities))
    elif mode == "MIN_30":
        length = stream.interval_length
        if 30 % length:
            raise ConversionError(
                f"MIN_30 needs interval lengths that divide 30; {stream.nmi} {stream.suffix} "
                f"has {length} minutes"
            )
        payload.read_interval_length = 30
        if length == 30:
            payload.interval_reads = _signed(values, negate, day.values_text)
        else:
            payload.interval_reads = group_sums(values, 30 // length, places, negate)
        payload.read_qualities = read_qualities(span_runs(day.qualities), 30 // length)
    text_date = day.date.isoformat()
    record = _register(
        stream.nmi, stream.register_id, stream.suffix, stream.meter_serial, stream.uom, options
    )
    record.read_start_date = record.read_end_date = text_date
    record.interval_read = payload
    return record


def _register(
    nmi: str, register_id: str, suffix: str, serial: str, uom: str, options: ConvertOptions
) -> EnergyUsageRead:
    """What every record of one register says; the caller adds dates and the read."""
    return EnergyUsageRead(
        service_point_id=service_point_id(nmi, options),
        register_id=register_id or None,
        register_suffix=suffix,
        meter_id=serial or None,
        controlled_load=_controlled(suffix, register_id, options),
        read_start_date="",
        unit_of_measure=uom or None,
        read_utype="intervalRead",
    )


def _places(day: IntervalDay) -> int | None:
    """An upper bound of the decimal places of the day's values, cheaply when the text is kept."""
    if day.values_text:
        shape = day.values_text.translate(_DIGITS_AS_D)
        if b"." + b"d" * (_SPEC_PLACES + 1) not in shape:
            return _SPEC_PLACES
    return decimal_places(day.values)


def _signed(values: list[float], negate: bool, text: bytes) -> list[Number] | msgspec.Raw:
    if negate:
        # Measured: negating floats beats negating the text (zeros must stay unsigned).
        return [0.0 - value for value in values]  # 0.0 - 0.0 is 0.0: never -0
    if text:
        # The file's own decimals: plain unsigned decimals (the reader kept the text only
        # then), so in brackets they are a valid JSON array.
        return msgspec.Raw(b"[" + text + b"]")
    return list[Number](values)


QualityRun = tuple[int, int, Quality]  # first and last interval (1-based), quality


def span_runs(spans: Iterable[QualitySpan]) -> list[QualityRun]:
    """A day's quality spans in CDR terms (a flag without an equivalent is SUBSTITUTE)."""
    return [(s.start, s.end, QUALITY_BY_FLAG.get(s.flag, "SUBSTITUTE")) for s in spans]


def read_qualities(runs: Iterable[QualityRun], size: int = 1) -> list[ReadQuality]:
    """``readQualities``: maximal runs of equal non-actual quality. With ``size`` > 1, in
    groups of ``size`` native intervals (MIN_30), each the least final of its parts."""
    if size > 1:
        worst: dict[int, int] = {}
        for start, end, quality in runs:
            rank = _RANK[quality]
            for group in range((start - 1) // size + 1, (end - 1) // size + 2):
                worst[group] = max(worst.get(group, 0), rank)
        runs = [(group, group, _BY_RANK[rank]) for group, rank in sorted(worst.items())]
    ranges: list[ReadQuality] = []
    for start, end, quality in runs:
        if quality == "ACTUAL":
            continue
        last = ranges[-1] if ranges else None
        if last is not None and last.quality == quality and last.end_interval + 1 == start:
            last.end_interval = end
        else:
            ranges.append(ReadQuality(start_interval=start, end_interval=end, quality=quality))
    return ranges


def basic_record(read: BasicRead, options: ConvertOptions) -> EnergyUsageRead:
    dates = basic_dates(read)
    if dates is None:
        raise ConversionError(f"250 record of {read.nmi} {read.suffix} has no read dates")
    start, end = dates
    negate = options.export_sign == "negative" and (read.direction == "I" or read.suffix[:1] == "B")
    value = 0.0 - read.quantity if negate else read.quantity + 0.0
    record = _register(
        read.nmi, read.register_id, read.suffix, read.meter_serial, read.uom, options
    )
    record.read_start_date, record.read_end_date = start.isoformat(), end.isoformat()
    record.read_utype = "basicRead"
    record.basic_read = BasicReadPayload(
        quality=QUALITY_BY_FLAG.get(read.current_quality_method[:1], "SUBSTITUTE"), value=value
    )
    return record


def basic_dates(read: BasicRead) -> tuple[date, date] | None:
    """(readStartDate, readEndDate) of a 250, or None when it has no read dates."""
    current, previous = read.current_read_datetime, read.previous_read_datetime
    end_moment = current or previous
    if end_moment is None:
        return None
    end = end_moment.date()
    return (previous.date() if previous is not None else end), end
