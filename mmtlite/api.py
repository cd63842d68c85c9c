"""The public handle: ``db = mmtlite.open(home, env)``, one method per ``mmtlite`` command.

Each method does what its command does and returns what the command prints, as typed
structs; the command line only parses arguments and renders these. Paths are ``str`` or
``os.PathLike`` (``"-"`` is standard input or output where a command reads or writes one
file), times are ``datetime`` (naive: local time, as the file names use), categories and
targets are their names (``"NONCOMM"``, ``"cs"``).

Refusals raise ``MmtliteError`` subclasses with a one-line message: ``BadArgument`` (an argument
that can never work), ``Busy`` (another writer holds the environment), ``SchemaError``,
``TrancheError``, ``SimulateError``, ``WrapError``. Bad input files are not exceptions: they
are findings, in the results and in the error table.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from mmtlite import activity, generator, loader, reports, results, simulate, tranches, wrap
from mmtlite.activity import LoadEntry
from mmtlite.categories import CATEGORIES, INBOUND, STAMP_FORMAT
from mmtlite.errors import BadArgument
from mmtlite.fileformat import file_name, parse, write
from mmtlite.findings import LoggedFinding
from mmtlite.loader import Budget, RunResult
from mmtlite.migration_report import Report
from mmtlite.migration_report import report as report_of
from mmtlite.migrations import connect
from mmtlite.paths import ENVS, Env, Place, create_folders, home
from mmtlite.report_html import write_page
from mmtlite.results import Template, Validation
from mmtlite.simulate import Answer
from mmtlite.tranches import Export, Selection, Target
from mmtlite.wrap import Wrapped

PathLike = str | os.PathLike[str]


def open(home_folder: PathLike | None = None, env: Env = "build") -> Database:
    """The environment ``env`` under ``home_folder`` (default ``$MMTLITE_HOME``, else
    ``./mmt``). Nothing is created until a method needs it."""
    if env not in ENVS:
        raise BadArgument(f"unknown environment {env!r}: build, sogl or prod", "--env")
    return Database(Place(home(home_folder), env))


class Database:
    """One environment of mmtlite: its database and its landing folders."""

    def __init__(self, place: Place) -> None:
        self.place = place

    @property
    def env(self) -> Env:
        return self.place.env

    @property
    def home(self) -> Path:
        return self.place.root

    @property
    def database(self) -> Path:
        return self.place.database

    def init(self) -> list[Path]:
        """Create the database and every landing folder; the folders."""
        with self._connection():
            pass
        return create_folders(self.place)

    def validate(self, paths: Sequence[PathLike]) -> list[Validation]:
        """Check files without loading them (name, header, trailer, environment, rows)."""
        return [results.validation(parse(path, env=self.env)) for path in paths]

    def load(
        self,
        paths: Sequence[PathLike],
        *,
        force: bool = False,
        budget: Budget | None = None,
        max_delete: float = 0.2,
        on_file: loader.OnFile | None = None,
    ) -> RunResult:
        """Load ``paths`` in category and sequence order, each file in one transaction.

        ``force`` lets a known sequence gap or a mass delete through; ``budget`` is the bad
        rows a file may have and still load (default: none for the control lists, 1% for the
        others); ``max_delete`` the share of a list a complete file may remove."""
        options = loader.Options(force=force, budget=budget, max_delete=max_delete)
        return loader.load(self.place, paths, options, on_file)

    def ingest(
        self,
        *,
        force: bool = False,
        budget: Budget | None = None,
        max_delete: float = 0.2,
        on_file: loader.OnFile | None = None,
    ) -> RunResult:
        """Load every new file of the inbound folders (options as ``load``)."""
        options = loader.Options(force=force, budget=budget, max_delete=max_delete)
        return loader.ingest(self.place, options, on_file)

    def status(self) -> reports.Status:
        """Meters by status, every status listed."""
        with self._connection() as connection:
            return reports.status(connection, self.env)

    def select(self, tranche_id: str, size: int, *, when: datetime | None = None) -> Selection:
        """Select a tranche of at most ``size`` eligible meters and write its DCCCAND file."""
        return tranches.select_tranche(self.place, tranche_id, size, when)

    def export(
        self,
        target: Target,
        tranche_id: str,
        *,
        note_code: str = "S1MIG",
        migration_date: date | None = None,
        when: datetime | None = None,
    ) -> Export:
        """Write a tranche's file for ``target`` (``"dcc"``, ``"cs"`` or ``"mdm"``)."""
        day = migration_date.strftime("%Y%m%d") if migration_date is not None else None
        return tranches.export_tranche(
            self.place, target, tranche_id, note_code=note_code, migration_date=day, when=when
        )

    def respond(
        self,
        system: Target,
        tranche_id: str,
        *,
        fail: float = 0.02,
        seed: int = 0,
        when: datetime | None = None,
    ) -> Answer:
        """Play ``system`` (never in prod): answer its last file of the tranche."""
        with self._connection() as connection:
            return simulate.respond(
                connection,
                self.place,
                system,
                tranche_id,
                when=when or datetime.now(),
                fail=fail,
                seed=seed,
            )

    def report(self, *, html: PathLike | None = None) -> Report:
        """Where the migration stands; also as an HTML page at ``html`` when given."""
        with self._connection() as connection:
            made = report_of(connection, self.env)
        if html is not None:
            write_page(made, html)
        return made

    def history(self, msn: str) -> reports.Story | None:
        """One meter's story; None when no list names it."""
        with self._connection() as connection:
            return reports.history(connection, msn)

    def log(self, limit: int | None = 20) -> list[LoadEntry]:
        """The activity log, newest first."""
        with self._connection() as connection:
            return activity.entries(connection, limit=limit)

    def errors(
        self, *, file: PathLike | None = None, load_id: int | None = None, limit: int | None = 100
    ) -> list[LoggedFinding]:
        """The error table, newest load first; of one file (by its name) or one log entry."""
        name = os.fspath(file) if file is not None else None
        with self._connection() as connection:
            return activity.error_rows(connection, load_id=load_id, file=name, limit=limit)

    def wrap(
        self,
        category: str,
        rows: PathLike,
        *,
        action: str | None = None,
        sequence: int | None = None,
        output: PathLike | None = None,
        when: datetime | None = None,
    ) -> Wrapped:
        """Plain rows made into an inbound file of ``category``, written (into ``output``, a
        folder or ``-``; by default the category's inbound folder) only if every row is good."""
        return wrap.wrap(
            category,
            rows,
            self.place,
            when=when or datetime.now(),
            action=action.upper() if action is not None else None,
            sequence=sequence,
            output=output,
        )

    def template(
        self, category: str, *, sequence: int = 1, when: datetime | None = None
    ) -> Template:
        """An empty file of ``category`` (header and trailer), its name and columns."""
        spec = CATEGORIES.get(category.upper())
        if spec is None or spec.name not in INBOUND:
            raise BadArgument(f"{category!r} is not an inbound category", "CATEGORY")
        created = (when or datetime.now()).strftime(STAMP_FORMAT)
        return Template(
            file_name(spec.name, self.env, created),
            list(spec.column_names),
            write(spec.name, self.env, sequence, created, []),
        )

    def generate(
        self,
        meters: int,
        *,
        seed: int = 0,
        created: datetime = datetime(2024, 1, 1, 9),
        output: PathLike | None = None,
    ) -> list[tuple[generator.GeneratedFile, Path]]:
        """A synthetic set of inbound files, written into ``output`` (a folder) or the inbound
        folders; each with its path."""
        files = generator.generate(
            meters, seed=seed, env=self.env, created=created.strftime(STAMP_FORMAT)
        )
        if output is not None:
            paths = generator.write_set(files, Path(output))
        else:
            paths = generator.write_into_inbound(files, self.place)
        return list(zip(files, paths, strict=True))

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        connection = connect(self.database)
        try:
            yield connection
        finally:
            connection.close()
