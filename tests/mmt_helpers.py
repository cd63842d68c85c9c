"""Building mmtlite files and reading a database back, for the mmtlite tests."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from mmtlite.categories import CATEGORIES, INBOUND, find
from mmtlite.fileformat import file_name, write
from mmtlite.migrations import connect
from mmtlite.paths import Place
from mmtlite.schema import list_table

FACT_DATE = "20240101"
CODES = [("NC01", "not communicating", "Y"), ("MX01", "manual", "N"), ("CH01", "churn", "N")]


def meter(msn: str, action: str = "ALL", site: str = "SITE1", dmc: str = "DMC1") -> tuple[str, ...]:
    """An MMT row (every column, the action last)."""
    return (msn, site, "1234567890123", "E", dmc, "20190401", action)


def fact(category: str, msn: str, code: str, action: str = "ADD") -> tuple[str, ...]:
    """A row of NONCOMM, MANEXCL, STATUSCHG or TODO (a REMOVE needs the key only)."""
    if action == "REMOVE":
        return removal(category, msn)
    return {
        "NONCOMM": (msn, code, FACT_DATE, action),
        "MANEXCL": (msn, code, "manual", action),
        "STATUSCHG": (msn, code, FACT_DATE, action),
        "TODO": (msn, code, "work", "", action),
    }[category]


def removal(category: str, key: str) -> tuple[str, ...]:
    """A REMOVE row of ``category``: the key, blanks, the action."""
    return (key, *[""] * (len(CATEGORIES[category].columns) - 1), "REMOVE")


def make(
    folder: Path,
    category: str,
    sequence: int,
    rows: Sequence[Sequence[str]],
    *,
    env: str = "build",
    second: int | None = None,
) -> Path:
    """Write a well-formed file of ``category`` into ``folder``; its name is stamped from the
    sequence (or ``second``) so names differ."""
    seconds = (second if second is not None else sequence) % 86400
    stamp = f"20240101{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"
    path = folder / file_name(category, env, stamp)
    path.write_bytes(write(category, env, sequence, stamp, rows))
    return path


class Files:
    """An environment under ``root`` and the files made for it: each the next sequence of its
    category, with a name of its own."""

    def __init__(self, root: Path) -> None:
        self.place = Place(root / "home", "build")
        self.folder = root / "files"
        self.folder.mkdir(parents=True)
        self.sequences: dict[str, int] = {}
        self.stamp = 0

    def path(self, category: str, rows: Sequence[Sequence[str]]) -> Path:
        """The next file of ``category``."""
        sequence = self.sequences.get(category, 0) + 1
        self.sequences[category] = sequence
        self.stamp += 1
        return make(self.folder, category, sequence, rows, second=self.stamp)

    def connection(self) -> closing[sqlite3.Connection]:
        return closing(connect(self.place.database))


def codes_file(folder: Path, sequence: int = 1) -> Path:
    return make(folder, "EXCLCODE", sequence, [(*code, "ALL") for code in CODES], second=1000)


def in_tranche(place: Place, folder: Path, msns: Sequence[str], tranche: str) -> None:
    """Make ``msns`` eligible meters (one site each, device DMC1 on the EPCL and the DMCT) and
    select them as ``tranche``: sequence 1 of EPCL, DMCT and MMT."""
    from mmtlite.loader import load
    from mmtlite.tranches import select_tranche

    load(
        place,
        [
            make(folder, "DMCT", 1, [("DMC1", "tested", "20230101", "ALL")], second=2000),
            make(folder, "EPCL", 1, [("DMC1", "Maker", "Model", "1.0", "ALL")], second=2001),
            make(folder, "MMT", 1, [meter(m, site=f"S{m}") for m in msns], second=2002),
        ],
    )
    select_tranche(place, tranche, len(msns))


def rows_of(place: Place, category: str) -> list[tuple[str, ...]]:
    """A list table's rows (without file_id), ordered by key."""
    spec = find(category)
    assert spec is not None
    columns = ", ".join(column.name for column in spec.columns)
    with reading(place) as connection:
        return connection.execute(
            f"SELECT {columns} FROM {list_table(spec)} ORDER BY {', '.join(spec.key)}"
        ).fetchall()


def digest(place: Place) -> str:
    """A hash of every list table (file_id included) and the ledger: equal means unchanged."""
    hasher = hashlib.sha256()
    with reading(place) as connection:
        for name in INBOUND:
            spec = find(name)
            assert spec is not None
            for row in connection.execute(f"SELECT * FROM {list_table(spec)} ORDER BY 1, 2"):
                hasher.update(repr(row).encode())
        for row in connection.execute(
            "SELECT name, category, sequence, sha256, forced FROM ledger ORDER BY file_id"
        ):
            hasher.update(repr(row).encode())
    return hasher.hexdigest()


def reading(place: Place) -> closing[sqlite3.Connection]:
    """``with reading(place) as connection:`` the environment's database, closed after."""
    return closing(connect(place.database))
