"""Bounded memory: export builds and writes a batch at a time, so a file many times larger than
the bound adds less than the bound to the process's peak RSS.

Each export is a fresh process (``nem2cdr export --to parquet``); its peak RSS is the child's
``ru_maxrss``, measured from a fresh launcher (as in test_experiments_memory).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nem2cdr.generator import generate

GROWTH_BOUND = 30 * 1024 * 1024  # bytes a 40-NMI file may add over a 3-NMI file


def peak_rss(path: Path, to: str, out: Path) -> int:
    script = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.argv[1], 'export', '--to', sys.argv[3], sys.argv[2], '-o',"
        " sys.argv[4]], check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    nem2cdr = str(Path(sys.executable).parent / "nem2cdr")
    done = subprocess.run(
        [sys.executable, "-c", script, nem2cdr, str(path), to, str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout) * 1024  # Linux reports kilobytes


@pytest.mark.slow
def test_a_file_13_times_larger_adds_less_than_the_bound(tmp_path: Path) -> None:
    to = "parquet"  # CSV goes through the same batches (and would write 2.4 GB here)
    small, large = tmp_path / "three.csv", tmp_path / "forty.csv"
    generate(small, nmis=3, days=365, interval=5, seed=1)
    generate(large, nmis=40, days=365, interval=5, seed=1)
    assert large.stat().st_size > GROWTH_BOUND
    # Held whole, the forty NMIs' 9.8 million intervals would take about 1 GB as Arrow.
    growth = peak_rss(large, to, tmp_path / f"l.{to}") - peak_rss(small, to, tmp_path / f"s.{to}")
    assert growth < GROWTH_BOUND, f"the larger file added {growth / 2**20:.1f} MiB"
