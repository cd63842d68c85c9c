"""The public handle refuses a caller's mistake with an ``MmtliteError`` only, before acting.

Every method of ``Database`` called with wrong types and values out of range raises
``BadArgument`` (or another ``MmtliteError``), never a ``TypeError``, ``KeyError``,
``AttributeError`` or ``OSError`` from deep inside, and leaves no half-started run in the log.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mmtlite
from mmtlite import BadArgument, Database, MmtliteError
from mmtlite.activity import STARTED
from mmtlite.generator import GeneratedFile, write_set
from tests.mmt_helpers import make, meter

WHEN = datetime(2024, 5, 1, 12, 0, 0)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A build environment with a small generated set loaded and tranche T1 selected."""
    home = tmp_path_factory.mktemp("home")
    db = mmtlite.open(home, "build")
    db.generate(60, seed=1)
    assert db.ingest().clean
    db.select("T1", 10, when=WHEN)
    return db


def rows_file(db: Database) -> Path:
    rows = db.home / "rows.csv"
    rows.write_text("MSN000001|MX01|a comment|ADD\n")
    return rows


def no_run_left_started(db: Database) -> None:
    assert [entry for entry in db.log(limit=None) if entry.outcome == STARTED] == []


Call = Callable[[Database], object]

# (what is wrong, the call, the words the message has)
BAD_CALLS: list[tuple[str, Call, str]] = [
    ("an unknown system", lambda db: db.respond("foo", "T1"), "system must be one of"),  # type: ignore[arg-type]
    ("fail in per cent", lambda db: db.respond("dcc", "T1", fail=2), "fail must be a share"),
    ("fail NaN", lambda db: db.respond("dcc", "T1", fail=math.nan), "fail must be a share"),
    ("a negative meter count", lambda db: db.generate(-5), "meters must be a whole number"),
    ("a lone surrogate as a folder", lambda db: db.generate(1, output="\ud800"), "file's path"),
    ("too many meters", lambda db: db.generate(200_000_000), "100,000,000"),
    ("created as text", lambda db: db.generate(10, created="2024"), "created must be a datetime"),  # type: ignore[arg-type]
    ("created out of range", lambda db: db.generate(1, created=datetime(9999, 12, 31)), "1901"),
    ("a seed as text", lambda db: db.generate(1, seed="x"), "seed must be"),  # type: ignore[arg-type]
    ("sequence 0", lambda db: db.template("MMT", sequence=0), "sequence must be"),
    ("a huge sequence", lambda db: db.template("MMT", sequence=10**20), "sequence must be"),
    ("a category not text", lambda db: db.template(5), "category must be text"),  # type: ignore[arg-type]
    ("an outbound category", lambda db: db.template("DCCCAND"), "not an inbound category"),
    ("a budget as a number", lambda db: db.ingest(budget=5), "budget must be"),  # type: ignore[arg-type]
    ("a budget's text wrong", lambda db: db.ingest(budget="5 rows"), "give a count"),
    ("max_delete in per cent", lambda db: db.ingest(max_delete=20), "max_delete must be a share"),
    ("max_delete negative", lambda db: db.ingest(max_delete=-1), "max_delete must be a share"),
    ("max_delete NaN", lambda db: db.ingest(max_delete=math.nan), "max_delete must be a share"),
    ("force not a flag", lambda db: db.ingest(force="yes"), "force must be True or False"),  # type: ignore[arg-type]
    ("on_file not callable", lambda db: db.ingest(on_file=5), "on_file must be"),  # type: ignore[arg-type]
    ("load from stdin", lambda db: db.load("-"), "standard input (-) is not supported"),
    ("validate from stdin", lambda db: db.validate(["-"]), "standard input (-) is not supported"),
    ("a path that is a number", lambda db: db.load([5]), "each path must be a path"),  # type: ignore[list-item]
    ("paths as bytes", lambda db: db.load(b"x.csv"), "paths must be a path"),  # type: ignore[arg-type]
    (
        "a migration date as text",
        lambda db: db.export("mdm", "T1", migration_date="20240101"),  # type: ignore[arg-type]
        "migration_date must be a date",
    ),
    ("an unknown target", lambda db: db.export("sms", "T1"), "target must be one of"),  # type: ignore[arg-type]
    ("a note code not text", lambda db: db.export("cs", "T1", note_code=1), "note_code must be"),  # type: ignore[arg-type]
    ("when as text", lambda db: db.select("T9", 1, when="now"), "when must be a datetime"),  # type: ignore[arg-type]
    ("a size as text", lambda db: db.select("T1", "10"), "size must be a whole number"),  # type: ignore[arg-type]
    ("a size beyond SQLite", lambda db: db.select("BIG", 10**20), "size must be a whole number"),
    ("no tranche id", lambda db: db.select(None, 10), "tranche_id must be text"),  # type: ignore[arg-type]
    ("an empty html path", lambda db: db.report(html=""), "html must be a file's path"),
    ("a folder as html", lambda db: db.report(html="."), "is a folder"),
    ("the database as html", lambda db: db.report(html=db.database), "is a database file"),
    ("a msn not text", lambda db: db.history(5), "msn must be text"),  # type: ignore[arg-type]
    ("a limit of 0", lambda db: db.log(0), "limit must be a whole number"),
    ("a limit beyond SQLite", lambda db: db.log(10**20), "limit must be a whole number"),
    ("a load id beyond SQLite", lambda db: db.errors(load_id=10**20), "load_id must be"),
    ("a file as a number", lambda db: db.errors(file=5), "file must be a path"),  # type: ignore[arg-type]
    (
        "an unknown action",
        lambda db: db.wrap("MANEXCL", rows_file(db), action="zap"),
        "action must be one of",
    ),
    ("rows not a path", lambda db: db.wrap("MANEXCL", None), "rows must be a path"),  # type: ignore[arg-type]
    ("generate to stdout", lambda db: db.generate(1, output="-"), "give a folder, not -"),
    (
        "wrap -o a file's name",
        lambda db: db.wrap("MANEXCL", rows_file(db), output="x/f.csv"),
        "looks like a file's name",
    ),
]


@pytest.mark.parametrize(("wrong", "call", "says"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_a_wrong_argument_is_a_bad_argument_and_changes_nothing(
    db: Database, wrong: str, call: Call, says: str
) -> None:
    entries = len(db.log(limit=None))
    with pytest.raises(BadArgument) as raised:
        call(db)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)
    assert len(db.log(limit=None)) == entries  # refused before a run was logged
    no_run_left_started(db)


def test_open_refuses_a_wrong_environment_or_home() -> None:
    with pytest.raises(BadArgument, match="env must be one of build, sogl, prod, not None"):
        mmtlite.open("h", None)  # type: ignore[arg-type]
    with pytest.raises(BadArgument, match="home_folder must be a path"):
        mmtlite.open(5)  # type: ignore[arg-type]


def test_a_file_as_home_is_a_schema_error_naming_it(tmp_path: Path) -> None:
    home = tmp_path / "a-file"
    home.write_text("not a folder")
    calls: list[Call] = [lambda db: db.status(), lambda db: db.ingest(), lambda db: db.log()]
    for call in calls:
        with pytest.raises(mmtlite.SchemaError, match=f"{home} cannot be the home: .* is a file"):
            call(mmtlite.open(home))


def test_an_output_that_cannot_be_written_names_the_users_path(
    db: Database, tmp_path: Path
) -> None:
    # A folder below a file cannot be made, whoever runs the test (root included).
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    for html in (blocked / "report.html", "/proc/x.html"):
        with pytest.raises(mmtlite.OutputError) as raised:
            db.report(html=html)
        assert f"cannot write {html}: " in str(raised.value)
        assert ".partial" not in str(raised.value)
    with pytest.raises(mmtlite.OutputError, match=f"cannot write {blocked}/out/MANEXCL_"):
        db.wrap("MANEXCL", rows_file(db), output=blocked / "out")


def test_a_single_path_is_one_file_not_its_characters(db: Database) -> None:
    entries = len(db.log(limit=None))
    result = db.load(str(db.home / "nope.csv"))
    assert [file.file for file in result.files] == [str(db.home / "nope.csv")]
    assert len(db.log(limit=None)) == entries + 1
    [checked] = db.validate(Path(db.home / "nope.csv"))
    assert checked.file == str(db.home / "nope.csv") and not checked.ok


def test_max_delete_is_a_share_as_the_cli_takes_per_cent(tmp_path: Path) -> None:
    """``max_delete=0.2`` is ``--max-delete 20``: an ALL list keeping 1 of 200 is refused."""
    db = mmtlite.open(tmp_path / "home")
    folder = tmp_path / "files"
    folder.mkdir()
    every = [meter(f"MSN{n:04d}", site=f"S{n}") for n in range(200)]
    assert db.load(make(folder, "MMT", 1, every)).clean
    one_left = make(folder, "MMT", 2, every[:1])
    refused = db.load([one_left], max_delete=0.2)
    assert refused.files[0].outcome == "refused" and "more than 20%" in refused.files[0].message
    assert db.status().meters == 200


def test_a_budget_may_be_given_as_the_clis_text(db: Database) -> None:
    assert db.ingest(budget="5%").clean


def test_respond_fail_is_a_share(db: Database) -> None:
    answer = db.respond("dcc", "T1", fail=1.0, when=WHEN)
    assert answer.failed == answer.rows > 0


def test_version_is_the_distributions() -> None:
    assert mmtlite.__version__ == importlib.metadata.version("nem2cdr")


# Values of every kind a caller might pass by mistake.
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([-1, 0, 2**63, 10**20, -(2**64)]),
    st.sampled_from([math.nan, math.inf, -0.5, 1.5, 100.0]),
    st.text(st.characters(blacklist_characters="/"), max_size=4),  # never a path outside
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.just(date(2024, 1, 1)),
    st.just(object()),
)

METHODS: dict[str, Callable[[Database, Any], object]] = {
    "validate": lambda db, x: db.validate(x),
    "load": lambda db, x: db.load(x),
    "load budget": lambda db, x: db.load([], budget=x),
    "load max_delete": lambda db, x: db.load([], max_delete=x),
    "ingest force": lambda db, x: db.ingest(force=x),
    "select size": lambda db, x: db.select("TX", x),
    "select id": lambda db, x: db.select(x, 1),
    "export target": lambda db, x: db.export(x, "T1"),
    "export date": lambda db, x: db.export("mdm", "NOPE", migration_date=x),
    "respond fail": lambda db, x: db.respond("dcc", "NOPE", fail=x),
    "respond seed": lambda db, x: db.respond("dcc", "NOPE", seed=x),
    "report": lambda db, x: db.report(html=x),
    "history": lambda db, x: db.history(x),
    "log": lambda db, x: db.log(x),
    "errors file": lambda db, x: db.errors(file=x),
    "errors load": lambda db, x: db.errors(load_id=x),
    "errors limit": lambda db, x: db.errors(limit=x),
    "wrap category": lambda db, x: db.wrap(x, "nope.csv"),
    "wrap rows": lambda db, x: db.wrap("MANEXCL", x),
    "wrap action": lambda db, x: db.wrap("MANEXCL", "nope.csv", action=x),
    "wrap sequence": lambda db, x: db.wrap("MANEXCL", "nope.csv", sequence=x),
    "wrap output": lambda db, x: db.wrap("MANEXCL", "nope.csv", output=x),
    "template": lambda db, x: db.template(x),
    "template sequence": lambda db, x: db.template("MMT", sequence=x),
    "generate meters": lambda db, x: db.generate(x, output=db.home / "generated"),
    "generate created": lambda db, x: db.generate(0, created=x, output=db.home / "generated"),
    "generate output": lambda db, x: db.generate(0, output=x),
}


@pytest.mark.parametrize("method", METHODS)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=ANYTHING)
def test_any_value_gives_a_result_or_an_mmtlite_error(
    db: Database, method: str, value: Any
) -> None:
    cwd = os.getcwd()
    os.chdir(db.home)  # a relative path a value names stays inside the test's home
    try:
        METHODS[method](db, value)
    except MmtliteError as exc:
        assert str(exc) and "\n" not in str(exc)
    finally:
        os.chdir(cwd)
    no_run_left_started(db)


def test_an_interrupted_set_leaves_no_file_and_no_temporary(tmp_path: Path) -> None:
    """Ctrl-C while the fourth file is on its way: the three before it are not left."""

    def files() -> object:
        for number in range(3):
            yield GeneratedFile("MMT", f"MMT_BUILD_2024010109000{number}.csv", b"x" * 10, 1)
        raise KeyboardInterrupt

    folder = tmp_path / "set"
    with pytest.raises(KeyboardInterrupt):
        write_set(files(), folder)  # type: ignore[arg-type]
    assert list(folder.iterdir()) == []


def test_a_path_with_a_newline_is_named_on_one_line(db: Database) -> None:
    with pytest.raises(mmtlite.MmtliteError) as raised:
        db.wrap("MANEXCL", "rows\nfile.csv")
    assert "\n" not in str(raised.value) and "'rows\\nfile.csv'" in str(raised.value)
