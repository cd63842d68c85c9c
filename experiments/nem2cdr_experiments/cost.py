"""What payload bytes cost: the 2022 thread's bandwidth and money model, every input an option.

The thread: "300 Requests 609KB = 178MB of data; 178MB / 4.5 seconds = 39MB/sec = 315mbit;
315mbit x $51K/year = $16.06mil per year". Its KB and MB are binary (609 KB x 300 = 178.4 MB),
and it rounded at each step; this model does not round. It lands within 1% of 178 MB, 315
Mbit/s and AUD 16.06 M; its 39.65 MB/s is 1.7% above the thread's "39", which the thread
truncated (its own 315 Mbit/s is 39.4 x 8: its steps do not agree with each other).
"""

from __future__ import annotations

import os
import stat
from typing import Annotated, Literal

import msgspec

from nem2cdr_experiments.data import LoadError

KIB = 1024
MIB = 1024 * 1024


class CostModel(msgspec.Struct, frozen=True, kw_only=True):
    requests: int = 300  # concurrent requests in the time budget
    budget_seconds: float = 4.5  # the NFR: 95% of calls within 4500 ms (AEMO's figure)
    aud_per_mbit_year: float = 51_000.0  # access cost of one Mbit/s for a year


class Cost(msgspec.Struct, frozen=True):
    payload_bytes: int
    burst_mib: float  # requests x payload
    mib_per_second: float  # the burst delivered within the budget
    mbit_per_second: float  # the thread's model (MiB/s x 8)
    aud_per_year: float
    plain_mbit_per_second: float  # requests per second x bytes x 8, no time budget
    plain_aud_per_year: float


def cost(payload_bytes: int, model: CostModel) -> Cost:
    burst = model.requests * payload_bytes / MIB
    per_second = burst / model.budget_seconds
    mbit = per_second * 8
    plain = model.requests * payload_bytes * 8 / MIB
    return Cost(
        payload_bytes,
        burst,
        per_second,
        mbit,
        mbit * model.aud_per_mbit_year,
        plain,
        plain * model.aud_per_mbit_year,
    )


class CpuCost(msgspec.Struct, frozen=True):
    """What one response costs in CPU, and the cores the thread's request rate needs.

    On the fly, every request builds its response and compresses it: ``cores_on_the_fly`` is
    requests per second x (encode + compress). Precompressed, the response is built and
    compressed once, ahead of the requests (when its data lands), at any level; serving it
    costs no encoding or compression: ``precompress_ms`` is that one-time CPU per response.
    """

    encode_ms: float  # process CPU time to build one whole response
    compress_ms: dict[str, float]  # per codec, to compress it
    cores_on_the_fly: dict[str, float]  # per codec, at ``requests`` per second
    precompress_ms: dict[str, float]  # per codec: encode + compress, once per response


def cpu_cost(encode_ms: float, compress_ms: dict[str, float], model: CostModel) -> CpuCost:
    once = {label: round(encode_ms + ms, 3) for label, ms in compress_ms.items()}
    cores = {label: round(model.requests * ms / 1000, 3) for label, ms in once.items()}
    return CpuCost(round(encode_ms, 3), compress_ms, cores, once)


# -- served: what ``nem2cdr serve`` itself spent per response, measured under load ----------


class ServedResponse(msgspec.Struct, frozen=True, kw_only=True):
    """One measured response of ``nem2cdr serve``: the server's CPU time per response (user +
    system time of all its processes over a load run, per response answered)."""

    interval_reads: Literal["NONE", "MIN_30", "FULL"]
    coding: Literal["identity", "gzip", "br", "zstd"]  # its Content-Encoding
    level: int | None  # the coding's level (None for identity)
    values: Annotated[int, msgspec.Meta(ge=1)]  # interval values it covers: what is read
    cpu_ms: Annotated[float, msgspec.Meta(gt=0)]

    def __post_init__(self) -> None:
        if (self.coding == "identity") != (self.level is None):
            # A mistaken level would only never match a codec: empty cells, no reason why.
            wrong = "has no level" if self.coding == "identity" else "needs a level"
            raise ValueError(f"{self.coding} {wrong}")


class ServedCpu(msgspec.Struct, frozen=True, kw_only=True):
    """A load run's measurements (``python -m benchmarks.load_serve --served-out FILE``)."""

    measured: str  # where, when and how: shown beside the figures
    responses: Annotated[list[ServedResponse], msgspec.Meta(min_length=1)]

    def __post_init__(self) -> None:
        seen: set[tuple[str, str, int | None]] = set()
        for at, response in enumerate(self.responses):
            key = (response.interval_reads, response.coding, response.level)
            if key in seen:  # which of two figures would count is anyone's guess
                raise ValueError(f"responses[{at}] measures {' '.join(map(str, key))} again")
            seen.add(key)

    def ms_per_value(self, interval_reads: str, codec_name: str, level: int) -> float | None:
        """The server's CPU per interval value for a response of this mode in this codec at
        this level; None when the run did not measure that combination."""
        coding = _SERVED_CODING.get(codec_name, codec_name)
        for response in self.responses:
            if (response.interval_reads, response.coding, response.level) == (
                interval_reads,
                coding,
                level,
            ):
                return response.cpu_ms / response.values
        return None


_SERVED_CODING = {"brotli": "br"}  # the experiments' codec names as Content-Encoding names


class ServedCost(msgspec.Struct, frozen=True):
    """What ``nem2cdr serve`` would spend answering with this experiment's whole response: the
    server's measured CPU per interval value times this response's values (a linear model:
    the server reads and converts every value of the records it answers, in every mode)."""

    cpu_ms: dict[str, float]  # per codec label measured, per response
    cores: dict[str, float]  # per codec label, at the model's requests per second


def served_cost(
    served: ServedCpu,
    interval_reads: str,
    codecs: dict[str, tuple[str, int]],
    values: int,
    model: CostModel,
) -> ServedCost:
    """``codecs`` maps each codec label of the run to its (name, level)."""
    per_value = {
        label: served.ms_per_value(interval_reads, name, level)
        for label, (name, level) in codecs.items()
    }
    cpu = {label: round(ms * values, 3) for label, ms in per_value.items() if ms is not None}
    cores = {label: round(model.requests * ms / 1000, 3) for label, ms in cpu.items()}
    return ServedCost(cpu, cores)


def read_served(path: str) -> ServedCpu:
    """A ``--served-out`` file of the serving benchmark. ``LoadError`` (path and reason) when
    it is not a regular file of at most ``SERVED_LIMIT`` bytes, or not such a file."""
    try:
        # Non-blocking: opening a FIFO to read would wait for a writer; a regular file reads
        # the same either way.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise LoadError(f"{path}: not a regular file")
            text = file.read(SERVED_LIMIT + 1)
    except OSError as exc:
        raise LoadError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(text) > SERVED_LIMIT:
        raise LoadError(f"{path}: not a served-CPU file: larger than {SERVED_LIMIT:,} bytes")
    try:
        return msgspec.json.decode(text, type=ServedCpu)
    except msgspec.DecodeError as exc:
        raise LoadError(f"{path}: not a served-CPU file: {exc}") from exc


SERVED_LIMIT = 1 << 20  # a load run's file is a few kB
