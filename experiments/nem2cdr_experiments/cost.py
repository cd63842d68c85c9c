"""What payload bytes cost: the 2022 thread's bandwidth and money model, every input an option.

The thread: "300 Requests 609KB = 178MB of data; 178MB / 4.5 seconds = 39MB/sec = 315mbit;
315mbit x $51K/year = $16.06mil per year". Its KB and MB are binary (609 KB x 300 = 178.4 MB),
and it rounded at each step; this model does not round. It lands within 1% of 178 MB, 315
Mbit/s and AUD 16.06 M; its 39.65 MB/s is 1.7% above the thread's "39", which the thread
truncated (its own 315 Mbit/s is 39.4 x 8: its steps do not agree with each other).
"""

from __future__ import annotations

import msgspec

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
