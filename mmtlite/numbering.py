"""Numbering inbound files that mmtlite writes itself (``wrap``, ``respond``): the category's next
sequence and a name never used, chosen and written under one lock so that two at once never take
the same sequence or name.

The sequence is the next after both the ledger's last and any file of the category already waiting
in the inbound folder; the stamp is the one asked for, or the next second free in the folder.
The lock (``Place.numbering_lock``) is apart from the writer lock: a wrap waits a moment for
another wrap, and never makes a load busy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from mmtlite import ledger
from mmtlite.categories import STAMP_FORMAT, Category
from mmtlite.fileformat import file_name, peek_header
from mmtlite.lock import WriterLock
from mmtlite.migrations import connect
from mmtlite.paths import Place, inbound_files

WAIT = 30.0  # seconds a writer of inbound files queues behind another


@contextmanager
def numbering(place: Place, command: str) -> Iterator[None]:
    """Hold the environment's numbering lock (``Busy`` after ``WAIT`` seconds)."""
    with WriterLock(place.numbering_lock, command, wait=WAIT):
        yield


def next_sequence(place: Place, spec: Category) -> int:
    """One more than the last sequence loaded or waiting in the inbound folders (call it under
    ``numbering``). A database not made yet has loaded nothing: it is not created here."""
    last = 0
    if place.database.exists():
        connection = connect(place.database, create=False)
        try:
            last = ledger.last_sequence(connection, spec.name)
        finally:
            connection.close()
    waiting = (peek_header(str(path)) for path in inbound_files(place))
    return 1 + max(
        [last, *(sequence or 0 for category, sequence in waiting if category == spec.name)]
    )


def free_name(folder: Path, category: str, env: str, when: datetime) -> tuple[str, str]:
    """The creation stamp and file name of ``when``, or of the next second whose name is free
    in ``folder`` (call it under ``numbering``)."""
    moment = when.replace(microsecond=0)
    while True:
        created = moment.strftime(STAMP_FORMAT)
        name = file_name(category, env, created)
        if not os.path.lexists(folder / name):
            return created, name
        moment += timedelta(seconds=1)
