"""Writing outbound files (``DCCCAND``, ``CSNOTE``, ``MDMNOTIF``): docs/mmtlite.md, "Tranches and
outbound files".

Each file has its category's next sequence and a name that was never used: its stamp is the later of
now and one second after the category's last file, so two files in the same second still get
distinct names, and the names sort in the order the files were written.

Atomic, in two steps around the caller's transaction: ``prepare`` writes the content under a hidden
temporary name (flushed to disk) and records the file in the ``outbound`` table; after the commit,
``publish`` renames it into place. A crash in between leaves a recorded file under its temporary
name: ``finish_pending`` (run by the next writer) renames it. A failure or a crash before the commit
leaves a temporary file nobody recorded (nobody reads hidden files): ``finish_pending`` removes it,
after the failure and again at the next writer.

Not ``nem2cdr.atomic``, on purpose: that helper writes and renames in one step, but here the rename
must wait for the database's commit (the file exists exactly when its row does), and the temporary's
name must be known to the next writer, which finishes what a crash left.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import msgspec

from mmtlite.categories import CATEGORIES, STAMP_FORMAT
from mmtlite.fileformat import file_name, write
from mmtlite.paths import Place


class Written(msgspec.Struct):
    """One outbound file, recorded; ``path`` is where it is once published."""

    outbound_id: int
    name: str
    category: str
    sequence: int
    tranche_id: str
    rows: int
    path: str

    @property
    def temporary(self) -> Path:
        return _temporary(Path(self.path))


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def prepare(
    connection: sqlite3.Connection,
    place: Place,
    category: str,
    tranche_id: str,
    rows: Sequence[Sequence[str]],
    run_id: int,
    when: datetime | None = None,
) -> Written:
    """Write ``rows`` as the next file of ``category`` under a temporary name and record it
    (inside the caller's transaction)."""
    spec = CATEGORIES[category]
    folder = place.folder(spec.system, spec.name, "outbound")
    folder.mkdir(parents=True, exist_ok=True)
    sequence, created = _next(connection, category, when or datetime.now())
    env = place.env.upper()
    name = file_name(category, env, created)
    while (folder / name).exists() or _temporary(folder / name).exists():
        # Someone else's file (or a crashed attempt's) under that name: never reuse it.
        created = _stamp(_parse(created) + timedelta(seconds=1))
        name = file_name(category, env, created)
    content = write(category, env, sequence, created, rows)
    written_path = folder / name
    with open(_temporary(written_path), "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    cursor = connection.execute(
        "INSERT INTO outbound (name, category, sequence, created, tranche_id, rows, sha256, "
        "folder, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            name,
            category,
            sequence,
            created,
            tranche_id,
            len(rows),
            hashlib.sha256(content).hexdigest(),
            str(folder),
            run_id,
        ),
    )
    assert cursor.lastrowid is not None
    return Written(
        cursor.lastrowid, name, category, sequence, tranche_id, len(rows), str(written_path)
    )


def publish(written: Written) -> Path:
    """Rename a prepared file into place (after its transaction committed)."""
    target = Path(written.path)
    written.temporary.rename(target)
    return target


def finish_pending(connection: sqlite3.Connection, place: Place) -> list[Path]:
    """Tidy the outbound folders of what a crash or a failure left: publish each recorded file
    still under its temporary name; remove temporary files nobody recorded (their transaction
    rolled back). Returns the files published."""
    recorded = {
        name: sha256 for name, sha256 in connection.execute("SELECT name, sha256 FROM outbound")
    }
    done: list[Path] = []
    for spec in CATEGORIES.values():
        if spec.direction != "outbound":
            continue
        folder = place.folder(spec.system, spec.name, "outbound")
        if not folder.is_dir():
            continue
        for temporary in folder.glob(".*.tmp"):
            target = folder / temporary.name[1:-4]
            sha256 = recorded.get(target.name)
            if (
                sha256 is not None
                and not target.exists()
                and hashlib.sha256(temporary.read_bytes()).hexdigest() == sha256
            ):
                temporary.rename(target)
                done.append(target)
            elif sha256 is None:
                temporary.unlink()
    return done


def _next(connection: sqlite3.Connection, category: str, when: datetime) -> tuple[int, str]:
    """The category's next sequence and a stamp later than its last file's."""
    sequence, last = connection.execute(
        "SELECT coalesce(max(sequence), 0) + 1, max(created) FROM outbound WHERE category = ?",
        (category,),
    ).fetchone()
    created = when.replace(microsecond=0)
    if last is not None:
        created = max(created, _parse(last) + timedelta(seconds=1))
    return int(sequence), _stamp(created)


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, STAMP_FORMAT)


def _stamp(moment: datetime) -> str:
    return moment.strftime(STAMP_FORMAT)
