"""Idempotence: loading any set of files twice, in any order the sequence rules allow, gives the
same database as loading them once; and that database is what the ADD/REMOVE/ALL semantics say
(a plain-Python model of them, below).

The sets are small and overlap on purpose: six categories, each a chain of one to four files,
over a pool of twelve MSNs (six dmc_ids, six codes), so that files add, change, remove and re-add
the same keys, repeat keys within a file, and name codes the EXCLCODE list does not have.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path, PurePath

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mmtlite import loader
from mmtlite.activity import LOADED, LOADED_WITH_ERRORS, SKIPPED
from mmtlite.categories import ADD, ALL, CATEGORIES, INBOUND, REMOVE
from mmtlite.fileformat import file_name, write
from mmtlite.paths import Env, Place
from mmtlite.schema import list_table

ENV: Env = "build"
CHAIN = ("EXCLCODE", "DMCT", "MMT", "NONCOMM", "MANEXCL", "TODO")
MSNS = tuple(f"MSN{n:05d}" for n in range(1, 13))
DMCS = tuple(f"DMC{n}" for n in range(1, 7))
VALID = ("NC01", "MX02", "SW03")  # in the EXCLCODE list from its first file on, never removed
EXTRA = ("EX04", "EX05", "EX06")  # come and go in the EXCLCODE list; no other file names them
# Never in the EXCLCODE list: ADD and ALL rows naming them are rejected.
UNKNOWN = ("ZZ97", "ZZ98", "ZZ99")
BUDGET = 10  # the default error budget of a small non-control file

# Every example's ALL files remove whatever share of their list they like: max_delete=1.0 turns
# the mass-delete guard off. With the guard on, the model would have to know it, and a refused
# file would refuse the rest of its chain (a gap), so the second pass could not be all skipped;
# the guard has tests of its own.
OPTIONS = loader.Options(max_delete=1.0)


def data_of(category: str, codes: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    """The columns after the key, from small pools (so rows are often written again unchanged);
    coded columns from ``codes``."""
    code = st.sampled_from(codes)
    return {
        "EXCLCODE": st.tuples(st.sampled_from(("", "non-communicating")), st.sampled_from("YN")),
        "DMCT": st.tuples(
            st.sampled_from(("", "tested")), st.sampled_from(("20230101", "20230601"))
        ),
        "MMT": st.tuples(
            st.sampled_from(("SITE1", "SITE2", "SITE3")),
            st.sampled_from(("1234567", "1234567890123")),
            st.sampled_from("EG"),
            st.sampled_from(DMCS[:3]),
            st.sampled_from(("20190401", "20200229")),
        ),
        "NONCOMM": st.tuples(code, st.sampled_from(("20240101", "20240202"))),
        "MANEXCL": st.tuples(
            code, st.sampled_from(("", "seal broken", "'; DROP TABLE ledger; --"))
        ),
        "TODO": st.tuples(
            st.sampled_from(("T1", "T2")),
            st.sampled_from(("", "fit a hub")),
            st.sampled_from(("", "20240301")),
        ),
    }[category]


_KEYS = {
    "EXCLCODE": EXTRA,
    "DMCT": DMCS,
    "MMT": MSNS,
    "NONCOMM": MSNS,
    "MANEXCL": MSNS,
    "TODO": MSNS,
}


class File(msgspec.Struct, frozen=True):
    """One generated file: every row's fields, the action last."""

    category: str
    sequence: int
    rows: tuple[tuple[str, ...], ...]
    delimiter: str

    @property
    def created(self) -> str:
        return f"2024{CHAIN.index(self.category) + 1:02d}{self.sequence:02d}120000"

    @property
    def name(self) -> str:
        return file_name(self.category, ENV, self.created)

    @property
    def content(self) -> bytes:
        return write(self.category, ENV, self.sequence, self.created, self.rows, self.delimiter)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def bad(category: str, row: Sequence[str]) -> bool:
    """Whether the loader rejects ``row``: an ADD or ALL row naming a code not in EXCLCODE.

    The only codes used are VALID (always in the list once its first file is loaded, which every
    interleaving loads first) and UNKNOWN (never in it); so whether a row is bad does not depend
    on the interleaving.
    """
    spec = CATEGORIES[category]
    columns = [spec.column_names.index(name) for name in spec.coded]
    return row[-1] != REMOVE and any(row[at] not in VALID for at in columns)


@st.composite
def files_of(draw: st.DrawFn, category: str, sequence: int) -> File:
    """A file of ``category``: a complete list (ALL) or changes (ADD and REMOVE), keys repeated,
    some rows naming unknown codes (no more than the error budget)."""
    complete = draw(st.booleans())
    pool = _KEYS[category]
    if complete:
        actions = [(key, ALL) for key in draw(st.lists(st.sampled_from(pool), max_size=14))]
    else:
        actions = draw(
            st.lists(st.tuples(st.sampled_from(pool), st.sampled_from((ADD, REMOVE))), max_size=10)
        )
    if category == "EXCLCODE" and (complete or sequence == 1):
        # The codes other files use: present from the first file on, never removed.
        actions += [(code, ALL if complete else ADD) for code in VALID]
    elif category == "EXCLCODE":
        actions += [(code, ADD) for code in draw(st.lists(st.sampled_from(VALID), max_size=2))]
    # A third of the files name known codes only; the others unknown ones too, some mostly.
    codes = draw(st.sampled_from((VALID, (*VALID, *UNKNOWN), (VALID[0], *UNKNOWN))))
    # One version of a key's data per file: a key repeated with the same action repeats its row
    # (harmless) rather than conflicting, which would reject every row of the key.
    data = {key: draw(data_of(category, codes)) for key, _ in actions}
    blank_removes = draw(st.booleans())  # a REMOVE row needs only its key
    rows: list[tuple[str, ...]] = []
    for key, action in actions:
        values = data[key]
        if action == REMOVE and blank_removes:
            values = ("",) * len(values)
        row = (key, *values, action)
        if bad(category, row) and sum(bad(category, r) for r in rows) >= BUDGET:
            continue  # over the budget the file would be refused (tested elsewhere)
        rows.append(row)
    return File(category, sequence, tuple(rows), draw(st.sampled_from("|,")))


@st.composite
def file_sets(draw: st.DrawFn) -> tuple[File, ...]:
    """Every category's chain, sequences 1..k in order."""
    return tuple(
        draw(files_of(category, sequence))
        for category in CHAIN
        for sequence in range(1, draw(st.integers(1, 4)) + 1)
    )


@st.composite
def interleavings(draw: st.DrawFn, files: tuple[File, ...]) -> list[list[File]]:
    """The files in ``load`` calls: the categories interleaved as hypothesis likes, each in its
    sequence order, cut into one or more calls."""
    chains = {category: [f for f in files if f.category == category] for category in CHAIN}
    order = draw(st.permutations([f.category for f in files]))
    position = dict.fromkeys(CHAIN, 0)
    ordered = []
    for category in order:
        ordered.append(chains[category][position[category]])
        position[category] += 1
    # EXCLCODE 1 goes in the first call: before it, every code is unknown, and which rows are
    # good would depend on the order (a dependency across categories the sequence rules do not
    # order). Within a call the loader puts EXCLCODE first.
    ordered.remove(chains["EXCLCODE"][0])
    ordered.insert(0, chains["EXCLCODE"][0])
    cuts = sorted(draw(st.sets(st.integers(1, len(ordered) - 1), max_size=6)))
    return [
        ordered[start:end] for start, end in zip([0, *cuts], [*cuts, len(ordered)], strict=True)
    ]


# -- the model -----------------------------------------------------------------------------------

Listed = dict[
    str, tuple[tuple[str, ...], str]
]  # key -> (the row's columns, the file that set them)


class Expected(msgspec.Struct, frozen=True):
    outcome: str
    rows_read: int
    added: int
    changed: int
    removed: int
    rejected: int


def apply(rows: Listed, file: File) -> tuple[Listed, Expected]:
    """What loading ``file`` does to its list: a key with a rejected row is left as it was (none
    of its rows apply); ALL makes the list the other keys' rows (and keeps the rejected keys);
    ADD/REMOVE, the last action per key wins, ADD replacing the data. A row written with the
    data it had keeps the file that set it."""
    good = [row for row in file.rows if not bad(file.category, row)]
    rejected = {row[0] for row in file.rows if bad(file.category, row)}
    if rejected & {row[0] for row in good}:
        event("good rows withheld: their key has a rejected row")
    last = {row[0]: row for row in good if row[0] not in rejected}
    # A file without (applicable) rows is never a complete list.
    if last and file.rows[0][-1] == ALL:
        after = {key: rows[key] for key in rejected if key in rows and key not in last}
        if after:
            event("an ALL file keeps the rows of its rejected keys")
    else:
        after = {key: value for key, value in rows.items() if last.get(key, ("",))[-1] != REMOVE}
    for key, row in last.items():
        if row[-1] != REMOVE:
            columns = row[:-1]
            old = rows.get(key)
            after[key] = old if old is not None and old[0] == columns else (columns, file.name)
            if old is not None and old[0] == columns and old[1] != file.name:
                event("a row written again with its data keeps its file")
    expected = Expected(
        LOADED_WITH_ERRORS if len(file.rows) - len(good) else LOADED,
        rows_read=len(file.rows),
        added=len(after.keys() - rows.keys()),
        changed=sum(1 for key in after.keys() & rows.keys() if after[key][0] != rows[key][0]),
        removed=len(rows.keys() - after.keys()),
        rejected=len(file.rows) - len(good),
    )
    for name, value in msgspec.structs.asdict(expected).items():
        if value and name != "rows_read":
            event(f"a file with rows {name}" if name != "outcome" else f"a file {value}")
    return after, expected


Database = tuple[dict[str, list[tuple[str, ...]]], list[tuple[str, str, int, str]]]


def model(files: Iterable[File]) -> tuple[Database, dict[str, Expected]]:
    """The database (lists with the name of the file that set each row, and the ledger) and
    each file's outcome, by the semantics alone: each chain in sequence order."""
    lists: dict[str, Listed] = {category: {} for category in CHAIN}
    outcomes = {}
    for file in sorted(files, key=lambda f: (CHAIN.index(f.category), f.sequence)):
        lists[file.category], outcomes[file.name] = apply(lists[file.category], file)
    tables = {
        list_table(CATEGORIES[category]): sorted(
            (*columns, source) for columns, source in lists.get(category, {}).values()
        )
        for category in INBOUND
    }
    ledger = sorted((f.name, f.category, f.sequence, f.sha256) for f in files)
    return (tables, ledger), outcomes


# -- the database --------------------------------------------------------------------------------


def database(home: Path) -> Database:
    """Every list table's rows with the ledger's name of their file (ids depend on the order
    files were loaded in), and the ledger."""
    with closing(sqlite3.connect(Place(home, ENV).database)) as db:
        tables = {}
        for category in INBOUND:
            spec = CATEGORIES[category]
            columns = ", ".join(f"t.{column.name}" for column in spec.columns)
            tables[list_table(spec)] = sorted(
                db.execute(
                    f"SELECT {columns}, ledger.name FROM {list_table(spec)} AS t "
                    "JOIN ledger USING (file_id)"
                ).fetchall()
            )
            count = db.execute(f"SELECT count(*) FROM {list_table(spec)}").fetchone()[0]
            assert count == len(tables[list_table(spec)])  # every row's file is in the ledger
        ledger = sorted(db.execute("SELECT name, category, sequence, sha256 FROM ledger"))
    return tables, ledger


def load(home: Path, folder: Path, calls: list[list[File]]) -> list[loader.FileResult]:
    """Each call one ``loader.load``; every file's result, in loading order."""
    results = []
    for call in calls:
        run = loader.load(Place(home, ENV), [folder / file.name for file in call], OPTIONS)
        assert sorted(PurePath(r.file).name for r in run.files) == sorted(f.name for f in call)
        results += run.files
    return results


def counts(results: list[loader.FileResult]) -> dict[str, Expected]:
    return {
        PurePath(r.file).name: Expected(
            r.outcome,
            r.counts.rows_read,
            r.counts.added,
            r.counts.changed,
            r.counts.removed,
            r.counts.rejected,
        )
        for r in results
    }


def outcomes(results: list[loader.FileResult]) -> dict[str, str]:
    return {PurePath(r.file).name: r.outcome for r in results}


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(files=file_sets(), data=st.data())
def test_loading_twice_in_any_allowed_order_is_loading_once(
    files: tuple[File, ...], data: st.DataObject
) -> None:
    once, again, more = (data.draw(interleavings(files)) for _ in range(3))
    expected, expected_counts = model(files)
    skipped = dict.fromkeys(expected_counts, SKIPPED)
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "in"
        folder.mkdir()
        for file in files:
            (folder / file.name).write_bytes(file.content)

        first = Path(root) / "first"
        assert counts(load(first, folder, once)) == expected_counts
        loaded_once = database(first)
        assert loaded_once == expected

        second = Path(root) / "second"
        assert counts(load(second, folder, again)) == expected_counts
        assert database(second) == loaded_once
        assert outcomes(load(second, folder, [list(files)])) == skipped
        assert outcomes(load(second, folder, more)) == skipped
        assert database(second) == loaded_once
