"""Loading inbound files: ``load`` (files named) and ``ingest`` (new files in the inbound folders).

Each file, in order: its bytes are read once and hashed; its ``started`` log entry is committed
(content already in the ledger: skipped, before any parsing); it is parsed and checked
(``fileformat``), judged by the ledger (name, sequence, gap, replay), its coded columns checked
against the EXCLCODE list, its bad rows counted against the error budget; then one transaction
applies its rows, writes its ledger entry, closes its log entry and stores its errors. A refusal
at any step applies nothing and is logged with its reasons.

Files are handled in a fixed category order (codes and device lists before the lists that use
them) and, within a category, in sequence order; so ``load *.csv`` does the right thing.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import PurePath

import msgspec

from mmtlite import activity, ledger, outbound, rules
from mmtlite.activity import (
    LOADED,
    LOADED_WITH_ERRORS,
    REFUSED,
    SKIPPED,
    Counts,
    LoadEntry,
)
from mmtlite.applying import Applied, MassDelete, apply, reject_unknown_codes
from mmtlite.categories import CATEGORIES, INBOUND, STAMP_FORMAT, Category
from mmtlite.codes import C_BUDGET, C_OUTBOUND, C_UNREADABLE
from mmtlite.db import Damaged, PageCheck, SchemaError, explaining, transaction
from mmtlite.errors import BadArgument
from mmtlite.fileformat import ParsedFile, parse, peek_header, read_bytes
from mmtlite.findings import Finding
from mmtlite.lock import WriterLock
from mmtlite.migrations import connect
from mmtlite.paths import NOT_UTF8, PassedOver, Place, inbound_entries, is_utf8, shown
from mmtlite.responses import check_responses
from mmtlite.schema import list_table

# Codes and device lists first: the other lists are checked against them.
LOAD_ORDER = (
    "EXCLCODE",
    "DMCT",
    "EPCL",
    "MMT",
    "NONCOMM",
    "MANEXCL",
    "TODO",
    "STATUSCHG",
    "DCCRESP",
    "CSRESP",
    "MDMRESP",
)
assert set(LOAD_ORDER) == set(INBOUND)

# A million-meter master list is 74 MB; a file bigger than this is refused before it is read
# (a stray 2 GB file must not cost gigabytes of memory on every ingest).
MAX_SIZE = 1 << 30
# A file stamped more than this ahead of the clock is loaded with a warning.
FUTURE = timedelta(hours=1)

# What a run with nothing to apply reads and writes (its log, the ledger that says a file is
# loaded already, the outbound files ingest publishes): all it quick-checks. Every page is
# checked beside the first file that may be applied, before anything of it is committed
# (docs/mmtlite.md, "Damaged databases"):
# a rerun at a million meters took 0.14 s instead of 1.43 (benchmarks/README.md).
LOG_TABLES = ("runs", "loads", "errors", "ledger", "outbound")

STORED_ERRORS = 10_000  # per file; a garbage file must not fill the database with its errors


class Budget(msgspec.Struct, frozen=True):
    """How many bad rows a file may have and still load: ``count``, or ``share`` of its rows
    (at least ``floor``)."""

    count: int = 0
    share: float | None = None
    floor: int = 0

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``--error-budget``: a count (``50``) or a share of the rows (``0.5%``)."""
        count = re.fullmatch(r"\s*([0-9]{1,9})\s*", text)
        share = re.fullmatch(r"\s*([0-9]{1,3}(?:\.[0-9]{1,6})?)\s*%\s*", text)
        if count is not None:
            return cls(count=int(count[1]))
        if share is not None and float(share[1]) <= 100:
            return cls(share=float(share[1]) / 100)
        raise BadArgument(f"{text!r}: give a count (50) or a share (0.5%)", "--error-budget")

    def allows(self, rows: int) -> int:
        if self.share is None:
            return self.count
        return max(self.floor, int(self.share * rows))


# docs/mmtlite.md: 0 for control lists. Other lists and responses may have 1% of their rows bad,
# or 10 rows in a small file: the rest loads and the bad rows are listed.
CONTROL_BUDGET = Budget(count=0)
DEFAULT_BUDGET = Budget(share=0.01, floor=10)


class Options(msgspec.Struct, frozen=True):
    force: bool = False  # let a known gap or a mass delete through
    budget: Budget | None = None  # None: the defaults above
    max_delete: float = 0.2  # share of a list a file may remove (ALL or REMOVE)
    max_size: int = MAX_SIZE  # bytes: a bigger file is refused unread


class FileResult(msgspec.Struct):
    """What happened to one file."""

    file: str
    outcome: str
    category: str | None = None
    sequence: int | None = None
    counts: Counts = msgspec.field(default_factory=Counts)
    message: str = ""
    code: str | None = None  # why it was refused
    errors: list[Finding] = []
    load_id: int = 0
    evaluation: rules.Evaluation | None = None  # what the rules made of it (None: no change)

    @property
    def clean(self) -> bool:
        return self.outcome in (LOADED, SKIPPED)


class RunResult(msgspec.Struct):
    run_id: int
    aborted: list[LoadEntry]  # entries of dead runs this run marked aborted
    files: list[FileResult]
    already_loaded: int = 0  # ingest: files found whose content is in the ledger
    passed_over: list[PassedOver] = []  # no files to load: folders, FIFOs, names not UTF-8
    published: list[str] = []  # ingest: outbound files a crash had left hidden, now in place

    @property
    def clean(self) -> bool:
        return not self.passed_over and all(result.clean for result in self.files)


# Told before each file: (files done, files in all, the file about to load).
OnFile = Callable[[int, int, str], None]


def load(
    place: Place,
    paths: Sequence[str | os.PathLike[str]],
    options: Options | None = None,
    on_file: OnFile | None = None,
) -> RunResult:
    """Load ``paths`` (in category and sequence order) into the environment of ``place``.

    Raises ``lock.Busy`` at once when another writer holds the environment.
    """
    names = [os.fspath(path) for path in paths]
    # A name that is not UTF-8 can be neither logged nor shown: said, and the rest loads.
    passed = [PassedOver(shown(name), NOT_UTF8) for name in names if not is_utf8(name)]
    names = [name for name in names if is_utf8(name)]
    return _run(place, "load", names, options or Options(), on_file=on_file, passed_over=passed)


def ingest(
    place: Place, options: Options | None = None, on_file: OnFile | None = None
) -> RunResult:
    """Load every new file of the inbound folders of ``place``'s environment (and publish the
    outbound files a crash left hidden)."""
    files, passed = inbound_entries(place)
    found = sorted(str(path) for path in files)
    return _run(
        place,
        "ingest",
        found,
        options or Options(),
        only_new=True,
        on_file=on_file,
        passed_over=passed,
    )


def _run(
    place: Place,
    command: str,
    paths: list[str],
    options: Options,
    *,
    only_new: bool = False,
    on_file: OnFile | None = None,
    passed_over: list[PassedOver] | None = None,
) -> RunResult:
    with WriterLock(place.lock, command), explaining(place.database):
        connection = connect(place.database, check=LOG_TABLES)
        try:
            aborted = activity.mark_aborted(connection)
            published = outbound.finish_pending(connection, place) if only_new else []
            run_id = activity.start_run(connection, command)
            loading = _Loading(connection, place, run_id, options)
            result = RunResult(
                run_id,
                aborted,
                [],
                passed_over=passed_over or [],
                published=list(map(str, published)),
            )
            check: PageCheck | None = None
            try:
                for done, path in enumerate(sorted(paths, key=_order)):
                    if on_file is not None:
                        on_file(done, len(paths), path)
                    content = _read(path, options.max_size)
                    known = not isinstance(content, str) and ledger.by_content(
                        connection, content[1]
                    )
                    if only_new and known:
                        result.already_loaded += 1
                        continue
                    if not (check or known or isinstance(content, str)):
                        check = loading.check = PageCheck(place.database)
                    result.files.append(loading.one(path, content))
            except (SchemaError, sqlite3.DatabaseError):
                _refuse_if_damaged(connection, run_id, check)
                raise
            finally:
                if check is not None:
                    check.wait()
            activity.end_run(connection, run_id, "done" if result.clean else "done with errors")
            return result
        finally:
            connection.close()


def _refuse_if_damaged(
    connection: sqlite3.Connection, run_id: int, check: PageCheck | None
) -> None:
    """After an error in a run whose quick check of every page was running: ``Damaged`` (the
    run and its open file logged as refused) if the check failed; else the error stands."""
    if check is None:
        return
    check.wait()
    if isinstance(check.failure, Damaged):
        activity.refuse_run(connection, run_id, "the database is damaged")
        raise check.failure from None


def _read(path: str, limit: int) -> tuple[bytearray, str] | str:
    """A file's bytes and their SHA-256 (read once: ``ingest`` needs the hash to know what is
    new, the load needs the bytes), or why it cannot be read."""
    data = read_bytes(path, limit)
    return data if isinstance(data, str) else (data, hashlib.sha256(data).hexdigest())


def _order(path: str) -> tuple[int, int, str]:
    """Category order, then sequence, then name; unreadable headers last (they are refused)."""
    category, sequence = peek_header(path)
    rank = LOAD_ORDER.index(category) if category in LOAD_ORDER else len(LOAD_ORDER)
    return rank, sequence if sequence is not None else 0, PurePath(path).name


class _Loading:
    """One run's loading of files, one at a time."""

    def __init__(
        self, connection: sqlite3.Connection, place: Place, run_id: int, options: Options
    ) -> None:
        self.connection = connection
        self.place = place
        self.env = place.env.upper()
        self.run_id = run_id
        self.options = options
        # The quick check of every page, started before the first file new to the ledger:
        # nothing of a file (its rows, its outcome) is committed before it has passed.
        self.check: PageCheck | None = None

    def one(self, path: str, content: tuple[bytearray, str] | str) -> FileResult:
        """Load the file at ``path`` from its ``content`` (see ``_read``)."""
        load_id = activity.start_file(self.connection, self.run_id, path)
        result = FileResult(path, REFUSED, load_id=load_id)
        if isinstance(content, str):
            failure = Finding(C_UNREADABLE, path, None, None, content)
            return self.refuse(result, C_UNREADABLE, content, [failure])
        data, sha256 = content
        same = ledger.by_content(self.connection, sha256)
        if same is not None:
            return self.skip(result, same, sha256)
        parsed = parse(data, path, env=self.env)
        del data
        result.category, result.sequence = parsed.category, parsed.sequence
        result.counts.rows_read = parsed.detail_rows
        result.counts.rejected = len({error.line for error in parsed.row_errors})
        if parsed.refused:
            first = parsed.control_failures[0]
            return self.refuse(result, first.code, first.message, _errors(parsed, []), sha256)
        assert parsed.category is not None and parsed.sequence is not None
        spec = CATEGORIES[parsed.category]
        if spec.direction == "outbound":
            message = f"{spec.name} is an outbound category: mmtlite writes it, never loads it"
            return self.refuse(result, C_OUTBOUND, message, [], sha256)
        verdict = ledger.judge(
            self.connection,
            PurePath(path).name,
            spec.name,
            parsed.sequence,
            sha256,
            self.options.force,
        )
        if verdict.skip is not None:  # another process cannot have loaded it: we hold the lock
            return self.skip(result, verdict.skip, sha256)
        if verdict.code is not None:
            return self.refuse(result, verdict.code, verdict.message, [], sha256)
        rows, code_errors = reject_unknown_codes(self.connection, spec, parsed)
        if spec.name in RESPONSES:
            rows, response_errors = check_responses(self.connection, spec, parsed, rows)
            code_errors += response_errors
        errors = _errors(parsed, code_errors)
        rejected = len({error.line for error in errors})
        result.counts.rejected = rejected
        budget = self.options.budget or (CONTROL_BUDGET if spec.control else DEFAULT_BUDGET)
        allowed = budget.allows(parsed.detail_rows)
        if rejected > allowed:
            message = (
                f"{rejected:,} bad rows, more than the error budget of {allowed:,} for "
                f"{spec.name}: nothing loaded (see mmtlite errors)"
            )
            return self.refuse(result, C_BUDGET, message, errors, sha256)
        try:
            with transaction(self.connection):
                file_id = ledger.record(
                    self.connection,
                    name=PurePath(path).name,
                    category=spec.name,
                    env=self.env,
                    sequence=parsed.sequence,
                    created=parsed.created or "",
                    sha256=sha256,
                    rows=len(rows),
                    forced=verdict.forced,
                    load_id=load_id,
                )
                applied = apply(
                    self.connection,
                    spec,
                    parsed,
                    rows,
                    file_id,
                    max_delete=self.options.max_delete,
                    force=self.options.force,
                )
                # The rows are in their table now: a big list's Python objects (~200 MB for a
                # million meters) are let go before the rules take memory of their own.
                for held in (rows, parsed.rows, parsed.by_key):
                    held.clear()
                applied.counts.rows_read = parsed.detail_rows
                applied.counts.rejected = rejected
                result.counts = applied.counts
                result.outcome = LOADED_WITH_ERRORS if errors else LOADED
                result.evaluation = _evaluate(self.connection, spec, applied, file_id, self.run_id)
                notes = [*_future(parsed), *([verdict.forced] if verdict.forced else [])]
                notes += applied.notes
                if result.evaluation is not None:
                    notes.append(summary(result.evaluation))
                if errors:
                    rows_word = "row" if rejected == 1 else "rows"
                    notes.append(f"{rejected:,} bad {rows_word} rejected (see mmtlite errors)")
                result.message = "; ".join(notes)
                result.errors = errors
                self.close(result, sha256)
        except MassDelete as refusal:
            result.counts = Counts(rows_read=parsed.detail_rows, rejected=rejected)
            return self.refuse(result, refusal.code, str(refusal), errors, sha256)
        return result

    def skip(self, result: FileResult, same: ledger.Entry, sha256: str) -> FileResult:
        result.outcome = SKIPPED
        result.category, result.sequence = same.category, same.sequence
        result.message = (
            f"already loaded: the same content as {same.name} ({same.category} sequence "
            f"{same.sequence}, loaded {same.loaded_at})"
        )
        with transaction(self.connection):
            self.close(result, sha256)
        return result

    def refuse(
        self,
        result: FileResult,
        code: str,
        message: str,
        errors: list[Finding],
        sha256: str | None = None,
    ) -> FileResult:
        result.outcome = REFUSED
        result.code = code
        result.message = f"{code} {message}"
        # The reason first: a table shows a refused file's first errors only.
        reasons = [error for error in errors if error.code == code]
        others = [error for error in errors if error.code != code]
        result.errors = reasons or [Finding(code, result.file, None, None, message)]
        result.errors += others
        with transaction(self.connection):
            self.close(result, sha256)
        return result

    def close(self, result: FileResult, sha256: str | None) -> None:
        """Write the file's outcome (inside the transaction that applies it, if it does)."""
        if self.check is not None:
            self.check.passed()
        stored = result.errors[:STORED_ERRORS]
        message = result.message
        if len(result.errors) > len(stored):
            message += f" ({len(result.errors) - len(stored):,} more errors not stored)"
        activity.end_file(
            self.connection,
            result.load_id,
            result.outcome,
            result.counts,
            message,
            category=result.category,
            sequence=result.sequence,
            sha256=sha256,
            errors=stored,
        )


RESPONSES = ("DCCRESP", "CSRESP", "MDMRESP")


def _evaluate(
    connection: sqlite3.Connection, spec: Category, applied: Applied, file_id: int, run_id: int
) -> rules.Evaluation | None:
    """Re-evaluate the rules after a file changed its list (docs/mmtlite.md: after every load):
    after the master list or a fact list, only the meters it touched and their sites."""
    counts, category = applied.counts, spec.name
    if not (counts.added or counts.changed or counts.removed):
        return None
    name = connection.execute("SELECT name FROM ledger WHERE file_id = ?", (file_id,)).fetchone()
    trigger = f"load {name[0]}"
    if category in RESPONSES:
        tranches = [
            tranche
            for (tranche,) in connection.execute(
                f"SELECT DISTINCT tranche_id FROM {list_table(CATEGORIES[category])} "
                "WHERE file_id = ?",
                (file_id,),
            )
        ]
        return rules.evaluate(
            connection, trigger, file_id=file_id, run_id=run_id, verdicts=False, tranches=tranches
        )
    master = category == "MMT"
    keyed_by_msn = spec.key == ("msn",)  # the device lists and the codes: every meter
    touched = rules.Touched(list_table(spec), file_id, applied.removed_keys)
    return rules.evaluate(
        connection,
        trigger,
        file_id=file_id,
        run_id=run_id,
        new_meters=master and counts.added > 0,
        gone_meters=master and counts.removed > 0,
        moved_meters=master and counts.changed > 0,
        touched=touched if keyed_by_msn else None,
    )


def summary(evaluation: rules.Evaluation) -> str:
    """An evaluation in a few words, for the log: "statuses: 0S>0Z 120, >0S 5,000"."""
    if not evaluation.changes and not evaluation.new_conflicts:
        return "statuses unchanged"
    parts = []
    for (old, new), count in sorted(evaluation.changes.items(), key=lambda item: str(item[0])):
        moved = f"{old} cause changed" if old == new else f"{old or 'new'}->{new or 'gone'}"
        parts.append(f"{moved} {count:,}")
    text = "statuses: " + ", ".join(parts)
    if evaluation.new_conflicts:
        text += f"; {evaluation.new_conflicts:,} new conflicts in tranches (see mmtlite report)"
    return text


def _future(parsed: ParsedFile) -> list[str]:
    """A warning when the file says it was made later than now: a sender's clock is wrong, or
    the file was made by hand (it loads: the sequence decides the order, not the stamp)."""
    stamps = {parsed.created or "", *re.findall(r"_([0-9]{14})\.", PurePath(parsed.file).name)}
    future = sorted(stamp for stamp in stamps if stamp > _stamp(datetime.now() + FUTURE))
    if not future:
        return []
    shown = datetime.strptime(future[-1], STAMP_FORMAT).strftime("%Y-%m-%d %H:%M:%S")
    return [f"warning: stamped {shown}, in the future: check the sender's clock"]


def _stamp(moment: datetime) -> str:
    return moment.strftime(STAMP_FORMAT)


def _errors(parsed: ParsedFile, more: Iterable[Finding]) -> list[Finding]:
    """A file's control failures and row errors, in line order."""
    found = [*parsed.control_failures, *parsed.row_errors, *more]
    found.sort(key=lambda error: error.line or 0)
    return found
