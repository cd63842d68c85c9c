"""Setting a refused file aside: ``mmtlite set-aside FILE`` moves a file out of its inbound folder
into ``rejected/`` beside it (``<home>/<system>/<system_data>/<category>/rejected``), where
``ingest`` never looks, and logs the move once. Without it a refused file is tried again by every
``ingest``, adding a log entry and its errors each time (which is right for a gap, that fills once
the missing file arrives, and wrong for a file that will never load).

Under the writer lock, so an ``ingest`` is never reading the file as it moves. Moving it back into
``inbound/`` by hand makes ``ingest`` try it again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import msgspec

from mmtlite import activity
from mmtlite.activity import Counts
from mmtlite.arguments import printable
from mmtlite.categories import INBOUND
from mmtlite.db import explaining, transaction
from mmtlite.errors import MmtliteError
from mmtlite.lock import WriterLock
from mmtlite.migrations import connect
from mmtlite.paths import Place

SET_ASIDE = "set aside"  # the log entry's outcome
REJECTED = "rejected"  # the folder beside inbound/


class SetAsideError(MmtliteError):
    """The file cannot be set aside (not in an inbound folder of the environment, or its name
    is taken in rejected/); nothing was moved."""


class SetAside(msgspec.Struct):
    file: str  # where it was
    moved_to: str
    load_id: int  # its entry in the activity log


def set_aside(place: Place, paths: Sequence[str | os.PathLike[str]]) -> list[SetAside]:
    """Move each of ``paths`` (files in the environment's inbound folders) into the
    ``rejected/`` folder beside, each logged once; all are checked before any is moved."""
    moves = [(Path(path), _target(place, Path(path))) for path in paths]
    with WriterLock(place.lock, "set-aside"), explaining(place.database):
        connection = connect(place.database, create=False)
        try:
            run_id = activity.start_run(connection, "set-aside")
            done = [_move(connection, run_id, path, target) for path, target in moves]
            activity.end_run(connection, run_id, "done")
            return done
        finally:
            connection.close()


def _target(place: Place, path: Path) -> Path:
    """Where ``path`` goes, or ``SetAsideError`` saying why it cannot."""
    inbound = {place.inbound(name).resolve(): name for name in INBOUND}
    if not path.is_file() or path.parent.resolve() not in inbound:
        raise SetAsideError(
            f"{printable(path)} is not a file in an inbound folder of {place.env}: only a file "
            "ingest would try can be set aside"
        )
    target = path.parent.parent / REJECTED / path.name
    if os.path.lexists(target):
        raise SetAsideError(f"{printable(target)} exists already: nothing moved")
    return target


def _move(connection: sqlite3.Connection, run_id: int, path: Path, target: Path) -> SetAside:
    load_id = activity.start_file(connection, run_id, str(path))
    target.parent.mkdir(exist_ok=True)
    try:
        with transaction(connection):
            activity.end_file(
                connection,
                load_id,
                SET_ASIDE,
                Counts(),
                f"moved to {target}: ingest no longer tries it",
                category=None,
                sequence=None,
                sha256=None,
            )
            os.rename(path, target)  # the same file system: the folder beside
    except sqlite3.Error:
        os.rename(target, path)  # the move is undone when its log entry cannot be kept
        raise
    return SetAside(str(path), str(target), load_id)
