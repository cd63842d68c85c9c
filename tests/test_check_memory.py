"""``check`` in bounded memory: a response and a JSON Lines file of 1 GB each, more than three
times the 300 MB bound, checked by a fresh process whose peak RSS must stay under it.

The whole-document check this replaced held a response whole (2.9 GB on a 137 MB response);
the streaming one holds a read at a time. Each file is written read by read, never held.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.peak import peak_rss

BOUND = 300 * 10**6  # bytes: docs/cli.md, "check"
SIZE = 10**9  # bytes of each file
NEM2CDR = str(Path(sys.executable).parent / "nem2cdr")


def _read() -> bytes:
    """One day of 5-minute values, as a data holder writes it (its sum exact)."""
    values = [f"{(index * 37 % 1000) / 1000:.3f}" for index in range(288)]
    total = sum((Decimal(value) for value in values), Decimal(0))
    return (
        b'{"servicePointId":"sp-1","registerSuffix":"E1","readStartDate":"2024-01-02",'
        b'"readEndDate":"2024-01-02","unitOfMeasure":"kWh","readUType":"intervalRead",'
        b'"intervalRead":{"readIntervalLength":5,"aggregateValue":'
        + str(total).encode()
        + b',"intervalReads":['
        + ",".join(values).encode()
        + b"],"
        b'"readQualities":[{"startInterval":1,"endInterval":4,"quality":"SUBSTITUTE"}]}}'
    )


def _write(path: Path, lines: bool) -> int:
    """A file of about SIZE bytes of reads; returns how many reads it holds."""
    read = _read()
    count = SIZE // (len(read) + 1)
    separator = b"\n" if lines else b","
    with path.open("wb") as out:
        out.write(b"" if lines else b'{"data":{"reads":[')
        for done in range(0, count, 1000):
            many = min(1000, count - done)
            out.write((separator if done else b"") + separator.join([read] * many))
        if lines:
            out.write(b"\n")
        else:
            pages = -(-count // 1000)
            base = "https://holder.example/cds-au/v1/energy/electricity/servicepoints/usage"
            links = {
                name: f"{base}?page={page}"
                for name, page in [("self", 1), ("next", 2), ("last", pages)]
            }
            out.write(
                b']},"links":{'
                + ",".join(f'"{k}":"{v}"' for k, v in links.items()).encode()
                + f'}},"meta":{{"totalRecords":{count},"totalPages":{pages}}}}}'.encode()
            )
    return count


@pytest.mark.slow
@pytest.mark.parametrize("lines", [False, True], ids=["response", "json-lines"])
def test_a_1_gb_payload_is_checked_under_the_bound(lines: bool, tmp_path: Path) -> None:
    path = tmp_path / ("usage.jsonl" if lines else "usage.json")
    count = _write(path, lines)
    assert path.stat().st_size > 3 * BOUND
    run = peak_rss([NEM2CDR, "check", str(path)])
    peak, printed = run.rss, run.stdout.splitlines()
    if lines:
        assert printed == [f"ok {path}"]
    else:  # every read was looked at: the one problem is the page's size
        assert printed == [
            f"FAILED {path}: 1 problem",
            f"  CDR-E019 $.data.reads: {count:,} reads on one page; the page size is at most 1,000",
        ]
    assert peak < BOUND, f"peak RSS {peak / 10**6:.0f} MB"
