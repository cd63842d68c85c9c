"""The public handle: ``db = mmtlite.open(home, env)``, one method per ``mmtlite`` command.

Each method does what its command does and returns what the command prints, as typed
structs; the command line only parses arguments and renders these. Paths are ``str`` or
``os.PathLike`` (``"-"`` is standard input or output where ``wrap`` and ``report`` read or
write one file; ``load`` and ``validate`` need files, whose names carry what they are), times
are ``datetime`` and dates ``date`` (naive: local time, as the file names use), categories and
targets are their names (``"NONCOMM"``, ``"cs"``).

Shares are fractions from 0 to 1 (``max_delete=0.2``, ``fail=0.02``; the CLI's ``--max-delete``
and ``--fail`` take per cent). Refusals raise ``MmtliteError`` subclasses with a one-line
message, and only those: ``BadArgument`` (an argument of the wrong type or out of range,
checked before anything is locked or logged), ``Busy`` (another writer holds the environment),
``SchemaError`` (the home or database cannot be used), ``OutputError`` (a file to write exists
already or cannot be written), ``TrancheError``, ``SimulateError``, ``WrapError``. Bad input
files are not exceptions: they are findings, in the results and in the error table.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import get_args

from mmtlite import (
    activity,
    generator,
    loader,
    reports,
    results,
    set_aside,
    simulate,
    tranches,
    wrap,
)
from mmtlite.activity import LoadEntry
from mmtlite.arguments import (
    DASH,
    MAX_SEQUENCE,
    PathLike,
    choice,
    day,
    flag,
    input_paths,
    moment,
    optional_path,
    optional_whole,
    path,
    share,
    text,
    whole,
)
from mmtlite.categories import ACTIONS, CATEGORIES, INBOUND, STAMP_FORMAT, Category
from mmtlite.db import explaining, integrity
from mmtlite.errors import BadArgument, Exists
from mmtlite.fileformat import file_name, parse, write
from mmtlite.findings import LoggedFinding
from mmtlite.loader import Budget, RunResult
from mmtlite.migration_report import Report
from mmtlite.migration_report import report as report_of
from mmtlite.migrations import connect
from mmtlite.paths import ENVS, Env, Place, create_folders, home, is_database_file
from mmtlite.report_html import write_page
from mmtlite.results import Template, Validation
from mmtlite.set_aside import SetAside
from mmtlite.simulate import Answer
from mmtlite.tranches import Export, Selection, Target
from mmtlite.wrap import Wrapped

_TARGETS: tuple[Target, ...] = get_args(Target)


def open(home_folder: PathLike | None = None, env: Env = "build") -> Database:
    """The environment ``env`` under ``home_folder`` (default ``$MMTLITE_HOME``, else
    ``./mmt``). Nothing is created until a method needs it."""
    folder = optional_path(home_folder, "home_folder", "--home")
    # PROD, as every file says it, is prod.
    named = env.lower() if isinstance(env, str) else env
    return Database(Place(home(folder), choice(named, "env", ENVS, "--env")))


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
        with self._connection(create=True):
            pass
        return create_folders(self.place)

    def validate(self, paths: PathLike | Sequence[PathLike]) -> list[Validation]:
        """Check files (one path, or a list) without loading them: name, header, trailer,
        environment, rows."""
        return [results.validation(parse(one, env=self.env)) for one in input_paths(paths)]

    def load(
        self,
        paths: PathLike | Sequence[PathLike],
        *,
        force: bool = False,
        budget: Budget | str | None = None,
        max_delete: float = 0.2,
        max_size: int = loader.MAX_SIZE,
        on_file: loader.OnFile | None = None,
    ) -> RunResult:
        """Load ``paths`` (one path, or a list) in category and sequence order, each file in
        one transaction.

        ``force`` lets a known sequence gap or a mass delete through; ``budget`` is the bad
        rows a file may have and still load, a ``Budget`` or the CLI's text (``"50"``,
        ``"0.5%"``; default: none for the control lists, 1% for the others); ``max_delete``
        the share (0 to 1) of a list a file may remove (by ALL or REMOVE); ``max_size`` the
        bytes a file may have (a bigger one is refused unread)."""
        names = input_paths(paths)
        options = _options(force, budget, max_delete, max_size, on_file)
        return loader.load(self.place, names, options, on_file)

    def ingest(
        self,
        *,
        force: bool = False,
        budget: Budget | str | None = None,
        max_delete: float = 0.2,
        max_size: int = loader.MAX_SIZE,
        on_file: loader.OnFile | None = None,
    ) -> RunResult:
        """Load every new file of the inbound folders (options as ``load``); publish the
        outbound files a crash left hidden."""
        options = _options(force, budget, max_delete, max_size, on_file)
        return loader.ingest(self.place, options, on_file)

    def set_aside(self, paths: PathLike | Sequence[PathLike]) -> list[SetAside]:
        """Move refused files (one path, or a list) out of their inbound folder into
        ``rejected/`` beside it, where ``ingest`` never looks; each move logged once."""
        return set_aside.set_aside(self.place, input_paths(paths))

    def status(self) -> reports.Status:
        """Meters by status, every status listed."""
        with self._connection() as connection:
            return reports.status(connection, self.env)

    def select(self, tranche_id: str, size: int, *, when: datetime | None = None) -> Selection:
        """Select a tranche of at most ``size`` eligible meters and write its DCCCAND file."""
        tranche_id = text(tranche_id, "tranche_id", "--tranche")
        size = whole(size, "size", 1, option="--size")
        return tranches.select_tranche(self.place, tranche_id, size, moment(when, "when"))

    def export(
        self,
        target: Target,
        tranche_id: str,
        *,
        note_code: str = "S1MIG",
        migration_date: date | None = None,
        when: datetime | None = None,
    ) -> Export:
        """Write a tranche's file for ``target`` (``"dcc"``, ``"cs"`` or ``"mdm"``);
        ``migration_date`` (mdm) a ``date``."""
        migration_day = day(migration_date, "migration_date", "--migration-date")
        return tranches.export_tranche(
            self.place,
            choice(target, "target", _TARGETS, "TARGET"),
            text(tranche_id, "tranche_id", "--tranche"),
            note_code=text(note_code, "note_code", "--note-code"),
            migration_date=migration_day.strftime("%Y%m%d") if migration_day else None,
            when=moment(when, "when"),
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
        """Play ``system`` (never in prod): answer its last file of the tranche; ``fail`` is
        the share (0 to 1) of rows it rejects."""
        system = choice(system, "system", _TARGETS, "SYSTEM")
        tranche_id = text(tranche_id, "tranche_id", "--tranche")
        fail = share(fail, "fail", "--fail")
        seed = whole(seed, "seed", -(2**63), option="--seed")
        when = moment(when, "when") or datetime.now()
        simulate.check_env(self.place)  # before the database is opened, or created
        with self._connection(create=True) as connection:
            return simulate.respond(
                connection, self.place, system, tranche_id, when=when, fail=fail, seed=seed
            )

    def report(self, *, html: PathLike | None = None) -> Report:
        """Where the migration stands; also as an HTML page at ``html`` when given (a file:
        never a folder nor the database)."""
        page = self._output(html, "html", "--html")
        with self._connection() as connection:
            made = report_of(connection, self.env)
        if page is not None:
            write_page(made, page)
        return made

    def history(self, msn: str) -> reports.Story | None:
        """One meter's story; None when no list names it."""
        msn = text(msn, "msn", "MSN")
        with self._connection() as connection:
            return reports.history(connection, msn)

    def log(self, limit: int | None = 20) -> list[LoadEntry]:
        """The activity log, newest first."""
        limit = optional_whole(limit, "limit", 1, option="--limit")
        with self._connection() as connection:
            return activity.entries(connection, limit=limit)

    def errors(
        self, *, file: PathLike | None = None, load_id: int | None = None, limit: int | None = 100
    ) -> list[LoggedFinding]:
        """The error table, newest load first; of one file (by its name) or one log entry."""
        name = optional_path(file, "file", "--file")
        load_id = optional_whole(load_id, "load_id", 1, option="--load")
        limit = optional_whole(limit, "limit", 1, option="--limit")
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
        """Plain rows (``rows``: a file, or ``-`` for standard input) made into an inbound
        file of ``category``, written only if every row is good: into the folder ``output``
        (``-``: standard output; by default the category's inbound folder), under the name
        the format gives it."""
        spec = _inbound(category)
        if action is not None:
            action = choice(text(action, "action", "--action").upper(), "action", ACTIONS)
        return wrap.wrap(
            spec,
            path(rows, "rows", "ROWS"),
            self.place,
            when=moment(when, "when") or datetime.now(),
            action=action,
            sequence=optional_whole(sequence, "sequence", 1, MAX_SEQUENCE, "--sequence"),
            output=self._output(output, "output", "--output", folder=True),
        )

    def template(
        self, category: str, *, sequence: int = 1, when: datetime | None = None
    ) -> Template:
        """An empty file of ``category`` (header and trailer), its name and columns."""
        spec = _inbound(category)
        sequence = whole(sequence, "sequence", 1, MAX_SEQUENCE, "--sequence")
        created = (moment(when, "when") or datetime.now()).strftime(STAMP_FORMAT)
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
        """A synthetic set of inbound files (at most ``generator.MAX_METERS`` meters; created
        in 1901-2098), written into ``output`` (a folder) or the inbound folders, each with its
        path. Whole or not at all: none is written if any exists already (``Exists``)."""
        meters = whole(meters, "meters", 0, generator.MAX_METERS, "--meters")
        seed = whole(seed, "seed", -(2**63), option="--seed")
        stamp = moment(created, "created", "--created")
        if stamp is None:
            raise BadArgument("created must be a datetime, not None", "--created")
        created_text = stamp.strftime(STAMP_FORMAT)
        folder = self._output(output, "output", "--output", folder=True)
        if folder == DASH:
            raise BadArgument("a set is eight files: give a folder, not - (stdout)", "--output")

        def target(category: str) -> Path:
            if folder is not None:
                return Path(folder)
            return self.place.inbound(category)

        # Checked before the (long) generation too; the writing checks again, as it goes.
        for category, name in generator.names(self.env, created_text):
            if (target(category) / name).exists():
                raise Exists(f"{target(category) / name} exists already: nothing written")
        files = generator.generate(meters, seed=seed, env=self.env, created=created_text)
        if folder is not None:
            return list(zip(files, generator.write_set(files, Path(folder)), strict=True))
        return list(zip(files, generator.write_into_inbound(files, self.place), strict=True))

    def _output(
        self, given: PathLike | None, name: str, option: str, *, folder: bool = False
    ) -> str | None:
        """An output path the user gave: a file's path, or with ``folder`` the folder a file
        goes into under the name it is given (a path ending ``.csv`` or ``.txt`` is then the
        user's mistake, not a folder to make); ``-`` as it is. Never one of the home's
        database files: writing there would destroy the migration."""
        chosen = optional_path(given, name, option)
        if chosen is None or chosen == DASH:
            return chosen
        if folder:
            if os.path.exists(chosen) and not os.path.isdir(chosen):
                raise BadArgument(f"{chosen} is a file: give the folder to write into", option)
            if not os.path.isdir(chosen) and chosen.lower().endswith((".csv", ".txt")):
                raise BadArgument(
                    f"{chosen} looks like a file's name: give the folder to write into (the "
                    "file's name carries its category, environment and stamp)",
                    option,
                )
        elif chosen.endswith(os.sep) or os.path.isdir(chosen):
            raise BadArgument(f"{chosen} is a folder: give a file's path", option)
        if is_database_file(self.home, chosen):
            raise BadArgument(
                f"{chosen} is a database file of {self.home}: choose another path", option
            )
        return chosen

    def check(self) -> list[str]:
        """What SQLite's full integrity check finds in the database (at most 100 lines);
        empty when it is sound."""
        with self._connection() as connection:
            return integrity(connection)

    @contextmanager
    def _connection(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        """The database (it must exist unless ``create``); an ``sqlite3`` error inside is a
        ``SchemaError`` naming it."""
        connection = connect(self.database, create=create)
        try:
            with explaining(self.database):
                yield connection
        finally:
            connection.close()


def _inbound(category: object) -> Category:
    spec = CATEGORIES.get(text(category, "category", "CATEGORY").upper())
    if spec is None or spec.name not in INBOUND:
        raise BadArgument(f"{category!r} is not an inbound category", "CATEGORY")
    return spec


def _options(
    force: object, budget: object, max_delete: object, max_size: object, on_file: object
) -> loader.Options:
    """A load's options, checked before the lock is taken or a run logged."""
    if on_file is not None and not callable(on_file):
        raise BadArgument(f"on_file must be a function or None, not {on_file!r}")
    if isinstance(budget, str):
        budget = Budget.parse(budget)
    elif budget is not None and not isinstance(budget, Budget):
        raise BadArgument(f"budget must be a Budget or its text (50, 0.5%), not {budget!r}")
    return loader.Options(
        force=flag(force, "force"),
        budget=budget,
        max_delete=share(max_delete, "max_delete", "--max-delete"),
        max_size=whole(max_size, "max_size", 0, option="--max-size"),
    )
