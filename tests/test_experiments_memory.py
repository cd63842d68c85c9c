"""Constant memory: a file many times larger than the memory a run may add over a small one.

The run streams (one NMI at a time, payloads never held whole), so what it holds is one NMI's
data, the codecs' windows and a bounded payload buffer: the same for a file of three NMIs (the
third has a controlled-load register, the largest NMI of the generator) as for one of forty.
Each run is a fresh process; its peak RSS is the child's ``ru_maxrss``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nem2cdr.generator import generate
from tests.peak import peak_rss

GROWTH_BOUND = 10 * 1024 * 1024  # bytes a 40-NMI file may add over a 3-NMI file


def peak_rss_of(path: Path) -> int:
    """Peak RSS in bytes of ``nem2cdr experiments`` on ``path``, run alone."""
    nem2cdr = str(Path(sys.executable).parent / "nem2cdr")
    args = ["--only", "00,08", "--codecs", "gzip:1", "--workers", "1", "--format", "json"]
    run = peak_rss([nem2cdr, "experiments", str(path), *args])
    assert run.returncode == 0, run.stderr
    return run.rss


@pytest.mark.slow
def test_a_file_13_times_larger_adds_less_than_the_bound(tmp_path: Path) -> None:
    small, large = tmp_path / "three.csv", tmp_path / "forty.csv"
    generate(small, nmis=3, days=365, interval=5, seed=1)
    generate(large, nmis=40, days=365, interval=5, seed=1)
    assert large.stat().st_size > 3 * GROWTH_BOUND
    # 00's payload alone is four times the file: held whole, it would pass the bound 15 times
    # (the whole-payload implementation this replaced needed 410 MB on a 9.4 MB file).
    growth = peak_rss_of(large) - peak_rss_of(small)
    assert growth < GROWTH_BOUND, f"the larger file added {growth / 2**20:.1f} MiB"
