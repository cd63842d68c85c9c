"""Bounded memory: export builds and writes a batch at a time, so a file larger than the bound
adds less than the bound to the peak RSS (of the process and its forked reader together).

Each export is a fresh process (``nem2cdr export --to parquet``); its peak RSS is the child's
``ru_maxrss``, measured from a fresh launcher (as in test_experiments_memory).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nem2cdr.generator import generate
from tests.peak import peak_rss

GROWTH_BOUND = 64 * 1024 * 1024  # bytes an 80-NMI file may add over a 3-NMI file
PEAK_BOUND = 300 * 1024 * 1024  # the bound for any file (measured: about 240 MiB)


def peak_rss_of(path: Path, to: str, out: Path) -> int:
    """Peak RSS in bytes of ``nem2cdr export`` of ``path``, run alone."""
    nem2cdr = str(Path(sys.executable).parent / "nem2cdr")
    run = peak_rss([nem2cdr, "export", "--to", to, str(path), "-o", str(out)])
    assert run.returncode == 0, run.stderr
    return run.rss


@pytest.mark.slow
def test_a_file_26_times_larger_adds_less_than_the_bound(tmp_path: Path) -> None:
    to = "parquet"  # CSV goes through the same batches (and would write 2.4 GB here)
    small, large = tmp_path / "three.csv", tmp_path / "eighty.csv"
    generate(small, nmis=3, days=365, interval=5, seed=1)
    generate(large, nmis=80, days=365, interval=5, seed=1)
    assert large.stat().st_size > GROWTH_BOUND
    # Held whole, the eighty NMIs' 20 million intervals would take about 2.6 GB as Arrow.
    peak = peak_rss_of(large, to, tmp_path / f"l.{to}")
    growth = peak - peak_rss_of(small, to, tmp_path / f"s.{to}")
    assert growth < GROWTH_BOUND, f"the larger file added {growth / 2**20:.1f} MiB"
    assert peak < PEAK_BOUND, f"{peak / 2**20:.1f} MiB"
