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
