"""Constant memory: a file many times larger than the memory a run may add over a small one.

The run streams (one NMI at a time, payloads never held whole), so what it holds is one NMI's
data, the codecs' windows and a bounded payload buffer: the same for a file of three NMIs (the
third has a controlled-load register, the largest NMI of the generator) as for one of forty.
Each run is a fresh process; its peak RSS is the child's ``ru_maxrss``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nem2cdr.generator import generate

GROWTH_BOUND = 10 * 1024 * 1024  # bytes a 40-NMI file may add over a 3-NMI file


def peak_rss(path: Path) -> int:
    """Peak RSS in bytes of ``nem2cdr experiments`` on ``path`` in a child of a fresh child
    (so that ``RUSAGE_CHILDREN`` sees that run alone)."""
    script = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.argv[1], 'experiments', sys.argv[2],"
        " '--only', '00,08', '--codecs', 'gzip:1', '--workers', '1', '--format', 'json'],"
        " check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(Path(sys.executable).parent / "nem2cdr"), str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout) * 1024  # Linux reports kilobytes


@pytest.mark.slow
def test_a_file_13_times_larger_adds_less_than_the_bound(tmp_path: Path) -> None:
    small, large = tmp_path / "three.csv", tmp_path / "forty.csv"
    generate(small, nmis=3, days=365, interval=5, seed=1)
    generate(large, nmis=40, days=365, interval=5, seed=1)
    assert large.stat().st_size > 3 * GROWTH_BOUND
    # 00's payload alone is four times the file: held whole, it would pass the bound 15 times
    # (the whole-payload implementation this replaced needed 410 MB on a 9.4 MB file).
    growth = peak_rss(large) - peak_rss(small)
    assert growth < GROWTH_BOUND, f"the larger file added {growth / 2**20:.1f} MiB"
