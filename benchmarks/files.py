"""The generated NEM12 files the benchmarks read, made once and cached under ``benchmarks/data/``.

Each file is a fixed call of ``nem2cdr.generator.generate``, so the same name always means the
same bytes. The cached file's name carries the generator options and a hash of the generator's
source: when either changes, the file is made again and the stale copy is removed.

    python -m benchmarks.files              # make (or find) big and ten_mb, print their sizes
    python -m benchmarks.files huge         # also the 2x file for the memory check
"""

from __future__ import annotations

import argparse
import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
MB = 1_000_000  # MB/s figures are decimal megabytes of file per second


@dataclass(frozen=True)
class FileSpec:
    """The options of one ``generate`` call."""

    nmis: int
    days: int = 365
    interval: int = 5
    seed: int = 0
    solar: bool = True  # an E1 and a B1 stream per NMI
    start: date = date(2024, 1, 1)

    def tag(self) -> str:
        solar = "solar" if self.solar else "nosolar"
        return (
            f"n{self.nmis}-d{self.days}-i{self.interval}-s{self.seed}-{solar}-{self.start:%Y%m%d}"
        )


SPECS: dict[str, FileSpec] = {
    # 100 NMIs x 2 streams x 365 days x 288 values: about 105 MB.
    "big": FileSpec(nmis=100),
    # The peers build whole-file structures in memory; ~10 MB keeps their runs short.
    "ten_mb": FileSpec(nmis=10),
    # Twice big, for the constant-memory check; only made on request.
    "huge": FileSpec(nmis=200),
}


def _generator_hash() -> str:
    from nem2cdr import generator

    return hashlib.sha256(Path(generator.__file__).read_bytes()).hexdigest()[:10]


def bench_file(name: str) -> Path:
    """The path of the cached file ``name`` (a key of ``SPECS``), generating it if needed."""
    from nem2cdr.generator import generate

    spec = SPECS[name]
    path = DATA_DIR / f"{name}-{spec.tag()}-{_generator_hash()}.csv"
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for stale in DATA_DIR.glob(f"{name}-*.csv"):
        stale.unlink()
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
    try:
        with open(partial, "wb") as out:
            generate(
                out,
                nmis=spec.nmis,
                days=spec.days,
                interval=spec.interval,
                start=spec.start,
                seed=spec.seed,
                solar=spec.solar,
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def megabytes(path: Path) -> float:
    return path.stat().st_size / MB


def main() -> None:
    parser = argparse.ArgumentParser(description="Make the benchmark files (cached).")
    parser.add_argument("names", nargs="*", help=f"of {', '.join(SPECS)} (default: big ten_mb)")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in SPECS]
    if unknown:
        parser.error(f"unknown file {unknown[0]!r}: choose from {', '.join(SPECS)}")
    for name in args.names or ["big", "ten_mb"]:
        path = bench_file(name)
        print(f"{name:7} {megabytes(path):8.1f} MB  {path}")


if __name__ == "__main__":
    main()
