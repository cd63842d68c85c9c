"""The full default ``nem2cdr experiments`` run against its floor: the codecs alone.

    python -m benchmarks.experiments_floor [FILE] [--workers N]

FILE defaults to the ``ten_mb`` file (``benchmarks.files``). First the run, as a whole process
with ``--out-dir`` (its time, CPU and peak RSS: the largest process, and the sum of the
workers'). Then the floor: the payloads it wrote, compressed with the same codecs (gzip 6,
zstd 3, brotli 5) in 1 MiB pieces through the streaming compressors, and nothing else. The
ratio of the run's CPU to the floor's is what encoding, round trips and reading cost on top
of the compression any server would pay (the issue's target: at most 1.5).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.files import bench_file
from benchmarks.process import nem2cdr_executable
from nem2cdr_experiments.codecs import parse

PIECE = 1 << 20


def run(file: Path, out_dir: Path, workers: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (bytes, largest process) of the run."""
    executable = nem2cdr_executable()
    if executable is None:
        sys.exit("nem2cdr is not installed in this environment (pip install -e .)")
    argv = [executable, "experiments", str(file), "--quiet", "--format", "json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [*argv, "--out-dir", str(out_dir), "--workers", workers],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss * 1024


def floor(out_dir: Path) -> tuple[float, int]:
    """CPU seconds to compress every payload with the default codecs, and the bytes read."""
    codecs = parse("default")
    cpu = 0.0
    total = 0
    for path in sorted(out_dir.iterdir()):
        streams = [codec.compressor() for codec in codecs]
        with path.open("rb") as payload:
            while piece := payload.read(PIECE):
                total += len(piece)
                start = time.process_time()
                for stream in streams:
                    stream.compress(piece)
                cpu += time.process_time() - start
        start = time.process_time()
        for stream in streams:
            stream.flush()
        cpu += time.process_time() - start
    return cpu, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--workers", default="auto")
    args = parser.parse_args()
    file = args.file or bench_file("ten_mb")
    with tempfile.TemporaryDirectory() as folder:
        out_dir = Path(folder) / "payloads"
        wall, cpu, rss = run(file, out_dir, args.workers)
        floor_cpu, payload_bytes = floor(out_dir)
    size = file.stat().st_size
    print(f"{file.name}: {size / 1e6:.1f} MB, payloads {payload_bytes / 1e6:,.0f} MB")
    peak = rss / 2**20
    print(f"run (workers {args.workers}): {wall:.1f} s wall, {cpu:.1f} s CPU, peak {peak:.0f} MiB")
    print(f"floor (the codecs alone, one process): {floor_cpu:.1f} s CPU")
    print(f"ratio run CPU / floor CPU: {cpu / floor_cpu:.2f} (target at most 1.5)")


if __name__ == "__main__":
    main()
