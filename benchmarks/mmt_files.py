"""The mmtlite benchmark files, made once and cached under ``benchmarks/data/mmt-<meters>-<hash>/``.

- ``MMT`` sequence 1: the generator's complete (ALL) master list of ``meters`` meters;
- ``MMT`` sequence 2: ``ADD`` of ``changes`` new meters (copies of existing rows under new MSNs);
- ``MMT`` sequence 3: ``REMOVE`` of ``changes`` existing meters;
- the generator's DMCT and EPCL of the same world (most devices on both: most meters become
  eligible, so a tranche can be selected);
- ``rows.psv``: the master list's rows as the ``sqlite3`` shell's ``.import`` takes them (the
  table's columns: the action dropped, ``file_id`` 1 added).

The folder's name carries a hash of the generator's and this module's source: when either
changes, the files are made again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import msgspec

from benchmarks.files import DATA_DIR

CREATED = "20240101090000"


class MmtFiles(msgspec.Struct, frozen=True):
    folder: Path
    master: Path  # ALL, sequence 1
    add: Path  # sequence 2
    remove: Path  # sequence 3
    devices: tuple[Path, Path]  # DMCT and EPCL, sequence 1
    import_rows: Path


def mmt_files(meters: int = 1_000_000, changes: int = 100_000) -> MmtFiles:
    from mmtlite import generator

    sources = b"".join(Path(module).read_bytes() for module in (generator.__file__, __file__))
    tag = hashlib.sha256(sources).hexdigest()[:10]
    folder = DATA_DIR / f"mmt-{meters}-{changes}-{tag}"
    names = MmtFiles(
        folder,
        folder / f"MMT_BUILD_{CREATED}.csv",
        folder / "MMT_BUILD_20240102090000.csv",
        folder / "MMT_BUILD_20240103090000.csv",
        (folder / "DMCT_BUILD_20240101090000.csv", folder / "EPCL_BUILD_20240101090000.csv"),
        folder / "rows.psv",
    )
    if names.import_rows.exists():
        return names
    for stale in DATA_DIR.glob(f"mmt-{meters}-{changes}-*"):
        shutil.rmtree(stale)
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    partial.mkdir(parents=True)
    try:
        _make(partial, meters, changes)
        os.replace(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return names


def _make(folder: Path, meters: int, changes: int) -> None:
    from mmtlite.fileformat import write
    from mmtlite.generator import generate

    made = {file.category: file for file in generate(meters, created=CREATED)}
    master = made["MMT"]
    (folder / f"MMT_BUILD_{CREATED}.csv").write_bytes(master.content)
    for category in ("DMCT", "EPCL"):
        (folder / f"{category}_BUILD_{CREATED}.csv").write_bytes(made[category].content)
    lines = master.content.decode().split("\n")[1:-2]  # the detail rows
    fields = [line.split("|") for line in lines[:changes]]
    # New meters: existing rows under new MSNs ("N" + the MSN is still 6-20 letters/digits).
    added = [["N" + row[0], *row[1:-1], "ADD"] for row in fields]
    removed = [[row[0], "", "", "", "", "", "REMOVE"] for row in fields]
    (folder / "MMT_BUILD_20240102090000.csv").write_bytes(
        write("MMT", "build", 2, "20240102090000", added)
    )
    (folder / "MMT_BUILD_20240103090000.csv").write_bytes(
        write("MMT", "build", 3, "20240103090000", removed)
    )
    with open(folder / "rows.psv", "w") as out:
        out.writelines(line.rsplit("|", 1)[0] + "|1\n" for line in lines)
