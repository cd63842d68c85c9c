"""``nem2cdr serve`` in bounded memory: a store larger than the bound, served whole.

One server process (``--workers 1``: uvicorn serves in the command's own process, which also
built the store) answers the heaviest requests there are: every page of 1,000 FULL reads at
the start, middle and end of all service points, each mode for many of them, and a POST of
every id. Its peak RSS (the kernel's VmHWM) must stay under the bound.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from nem2cdr.generator import generate
from nem2cdr.usage import ConvertOptions, service_point_id
from tests.serve_helpers import HOLDER, serving

BOUND = 300 * 1024 * 1024
NMIS = 340  # 5-minute data, a year each: about 320 MB of NEM12


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.slow
def test_the_server_stays_under_300_mb_on_a_store_larger_than_that(tmp_path: Path) -> None:
    source = tmp_path / "large.csv"
    generate(source, nmis=NMIS, days=365, interval=5)
    assert source.stat().st_size > BOUND
    store = tmp_path / "store.sqlite"
    ids = [service_point_id(f"61020{n:05d}", ConvertOptions()) for n in range(1, NMIS + 1)]
    query = {"interval-reads": "FULL", "page-size": "1000", "oldest-date": "2024-01-01"}
    with serving([source], store, "--today", "2024-12-31") as server, server.client() as client:
        assert store.stat().st_size > BOUND
        headers = {"x-v": "1", "accept-encoding": "gzip"}
        first = client.get(f"{HOLDER}/usage", params=query, headers=headers)
        pages = first.json()["meta"]["totalPages"]
        for page in (2, pages // 2, pages):
            answer = client.get(f"{HOLDER}/usage", params={**query, "page": page}, headers=headers)
            assert answer.status_code == 200
        for index in random.Random(0).sample(range(NMIS), 30):
            for mode in ("NONE", "MIN_30", "FULL"):
                answer = client.get(
                    f"{HOLDER}/{ids[index]}/usage",
                    params={**query, "interval-reads": mode},
                    headers={"x-v": "1"},
                )
                assert answer.status_code == 200
        body = {"data": {"servicePointIds": ids}}
        answer = client.post(f"{HOLDER}/usage", params=query, headers=headers, json=body)
        assert answer.status_code == 200
        peak = peak_rss(server.process.pid)
    assert peak < BOUND, f"peak RSS {peak / 2**20:.0f} MiB"
