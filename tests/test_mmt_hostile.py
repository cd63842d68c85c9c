"""Hostile input to ``mmtlite load`` and ``mmtlite.loader.load``: every such file is refused with
a stable code that names it, exit 1 (never 4, never a traceback), and leaves the lists and the
ledger exactly as they were; the activity log and the error table record the refusal (the audit
trail). Bad rows within the error budget are not a refusal: the good rows load, the bad ones are
listed."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mmtlite import loader
from mmtlite.activity import LOADED, LOADED_WITH_ERRORS, REFUSED
from mmtlite.categories import CATEGORIES, INBOUND, TEXT_MAX
from mmtlite.fileformat import file_name, parse, write
from mmtlite.paths import Env, Place
from mmtlite.schema import list_table
from nem2cdr_cli.mmtlite_commands import cli

ENV: Env = "build"
FRONTS = ("cli", "library")
MB20 = 20 * 1024 * 1024

# The base state: codes, a master list and two non-communicating meters, each sequence 1.
BASE: dict[str, list[tuple[str, ...]]] = {
    "EXCLCODE": [
        ("NC01", "non-communicating", "N", "ADD"),
        ("MX02", "manual exclusion", "N", "ADD"),
        ("SW03", "site-wide", "Y", "ADD"),
    ],
    "MMT": [
        (f"MSN00000{n}", f"SITE{(n + 1) // 2}", "1234567890123", "E", "DMC1", "20190401", "ADD")
        for n in range(1, 5)
    ],
    "NONCOMM": [
        ("MSN000001", "NC01", "20240101", "ADD"),
        ("MSN000002", "NC01", "20240102", "ADD"),
    ],
}
BASE_STAMP = "20240101000000"
STAMP = "20240201000000"  # the hostile files'; their headers say sequence 2, the next one

SQL = (
    "'; DROP TABLE list_mmt; --",
    '" OR 1=1 --',
    "Robert'); DROP TABLE ledger;--",
    "' OR '1'='1",
    "1; DELETE FROM list_noncomm",
    "%_\\ LIKE '%' /* */ [/] [bold]",
)

Snapshot = dict[str, list[tuple[object, ...]]]


def name(category: str, env: str = ENV, stamp: str = STAMP) -> str:
    return file_name(category, env, stamp)


def header(category: str, sequence: int | str = 2, env: str = "BUILD") -> str:
    return f"HDR|{category}|{sequence}|{STAMP}|{env}"


def text(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def detail(category: str, *rows: str) -> bytes:
    """A file of sequence 2 from its detail lines, with a trailer that counts them."""
    return text(header(category), *rows, f"TRL|{len(rows)}")


def good(category: str = "NONCOMM") -> bytes:
    """A good sequence-2 file of ``category`` (NONCOMM or MMT)."""
    row = {
        "NONCOMM": "MSN000003|NC01|20240103|ADD",
        "MMT": "MSN000005|SITE3|1234567|G|DMC1|20200101|ADD",
    }[category]
    return detail(category, row)


def snapshot(home: Path) -> Snapshot:
    """Every list table and the ledger (name, content hash), as sorted rows."""
    with closing(sqlite3.connect(Place(home, ENV).database)) as db:
        found: Snapshot = {
            table: sorted(db.execute(f"SELECT * FROM {table}").fetchall())
            for table in (list_table(CATEGORIES[category]) for category in INBOUND)
        }
        found["ledger"] = sorted(db.execute("SELECT name, sha256 FROM ledger").fetchall())
    return found


def audit(home: Path, path: Path) -> tuple[str, str, list[tuple[str, int | None, str | None]]]:
    """The newest activity log entry of ``path``: its outcome, message, and its errors (code,
    line, column) in the table's order."""
    with closing(sqlite3.connect(Place(home, ENV).database)) as db:
        load_id, outcome, message = db.execute(
            "SELECT load_id, outcome, message FROM loads WHERE file = ? "
            "ORDER BY load_id DESC LIMIT 1",
            (str(path),),
        ).fetchone()
        errors = db.execute(
            'SELECT code, line, "column", message, file FROM errors WHERE load_id = ? '
            "ORDER BY error_id",
            (load_id,),
        ).fetchall()
    for _code, _line, _column, error, file in errors:
        # Said in a few words, the hostile value shown cut and escaped, and the file named.
        assert len(error) < 400 and "\x00" not in error, error
        assert file == str(path)
    return outcome, message, [(code, line, column) for code, line, column, _, _ in errors]


def build_base(home: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for category, rows in BASE.items():
        path = folder / name(category, stamp=BASE_STAMP)
        path.write_bytes(write(category, ENV, 1, BASE_STAMP, rows))
        paths.append(path)
    run = loader.load(Place(home, ENV), paths)
    assert [file.outcome for file in run.files] == [LOADED] * len(BASE)


@pytest.fixture(scope="module")
def base_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("base")
    build_base(root / "home", root / "files")
    return root / "home"


@pytest.fixture
def home(base_home: Path, tmp_path: Path) -> Path:
    """A copy of the base state of its own (a closed WAL database is one file)."""
    return Path(shutil.copytree(base_home, tmp_path / "home"))


@contextmanager
def fresh(base_home: Path) -> Iterator[tuple[Path, Path]]:
    """A copy of the base state and a folder for files, for one hypothesis example."""
    with tempfile.TemporaryDirectory() as root:
        copy = Path(shutil.copytree(base_home, Path(root) / "home"))
        files = Path(root) / "in"
        files.mkdir()
        yield copy, files


def load_through(front: str, home: Path, *paths: Path) -> str:
    """Load ``paths`` through the CLI or the library; the CLI's output ('' for the library)."""
    if front == "cli":
        result = CliRunner().invoke(cli, ["--home", str(home), "load", *map(str, paths)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code == 1, result.output
        return result.output
    run = loader.load(Place(home, ENV), paths)
    assert not run.clean
    return ""


def assert_refused(
    front: str, home: Path, path: Path, code: str, also: tuple[str, ...] = ()
) -> None:
    """Loading ``path`` refuses it with ``code``, says so, and changes no data."""
    before = snapshot(home)
    output = load_through(front, home, path)
    assert snapshot(home) == before
    outcome, message, errors = audit(home, path)
    assert outcome == REFUSED
    assert message.startswith(f"{code} ")
    codes = [error[0] for error in errors]
    assert {code, *also} <= set(codes), errors
    if front == "cli":
        lines = output.splitlines()
        assert len(output) < 5000, output[:5000]  # a hostile value is never echoed whole
        # "refused PATH (CATEGORY SEQUENCE): ...", or "refused PATH: ..." when neither is known.
        at = next(i for i, line in enumerate(lines) if line.startswith(f"refused {path}"))
        assert "None" not in lines[at], output
        assert code in lines[at + 1], output


# -- refused files ---------------------------------------------------------------------------


class Case(NamedTuple):
    name: str  # the file's name
    content: Callable[[], bytes]  # built when the test runs: some are 20 MB
    code: str  # the refusal's code
    also: tuple[str, ...] = ()  # other codes the error table holds for it


def _columns(count: int) -> str:
    return "|".join(["NC04", *["x"] * (count - 2), "ADD"])


CASES = {
    "empty": Case(name("NONCOMM"), lambda: b"", "MMT-C003"),
    "blank lines only": Case(name("NONCOMM"), lambda: b"\n \t\r\n\n", "MMT-C003"),
    "utf-16": Case(name("NONCOMM"), lambda: good().decode().encode("utf-16"), "MMT-C004"),
    # No BOM: the NUL bytes are valid UTF-8, and 'H\0D\0R' is no header.
    "utf-16 without a BOM": Case(
        name("NONCOMM"), lambda: good().decode().encode("utf-16-le"), "MMT-C005"
    ),
    "latin-1": Case(
        name("EXCLCODE"),
        lambda: detail("EXCLCODE", "NC04|d\xe9faut|N|ADD").decode().encode("latin-1"),
        "MMT-C004",
    ),
    "another category's header": Case(name("NONCOMM"), lambda: good("MMT"), "MMT-C009"),
    "a valid name for another environment": Case(
        name("NONCOMM", "prod"),
        lambda: good().replace(b"|BUILD\n", b"|PROD\n"),
        "MMT-C015",
    ),
    "named for this environment, headed for another": Case(
        name("NONCOMM"), lambda: good().replace(b"|BUILD\n", b"|SOGL\n"), "MMT-C009", ("MMT-C015",)
    ),
    "an unknown environment": Case(
        name("NONCOMM"), lambda: good().replace(b"|BUILD\n", b"|PROD; --\n"), "MMT-C008"
    ),
    "NUL in the header's category": Case(
        name("NONCOMM"), lambda: good().replace(b"NONCOMM", b"NONC\x00OMM"), "MMT-C007"
    ),
    "NUL in a key of a control list": Case(
        name("EXCLCODE"), lambda: detail("EXCLCODE", "NC\x0004|x|N|ADD"), "MMT-C020", ("MMT-R003",)
    ),
    "NUL in a free-text field of a control list": Case(
        name("EXCLCODE"), lambda: detail("EXCLCODE", "NC04|a\x00b|N|ADD"), "MMT-C020", ("MMT-R005",)
    ),
    "SQL in a key of a control list": Case(
        name("EXCLCODE"), lambda: detail("EXCLCODE", f"{SQL[0]}|x|N|ADD"), "MMT-C020", ("MMT-R003",)
    ),
    # Eleven bad rows: one more than the budget of a small NONCOMM file.
    "SQL in the keys of eleven rows": Case(
        name("NONCOMM"),
        lambda: detail(
            "NONCOMM", *(f"{SQL[n % len(SQL)]}{n}|NC01|20240101|ADD" for n in range(11))
        ),
        "MMT-C020",
        ("MMT-R003",),
    ),
    "SQL as the category": Case(
        name("NONCOMM"),
        lambda: good().replace(b"|NONCOMM|", b"|NONCOMM'; DROP TABLE ledger; --|"),
        "MMT-C007",
    ),
    "SQL as the sequence": Case(
        name("NONCOMM"), lambda: good().replace(b"|2|", b"|2 OR 1=1|"), "MMT-C006"
    ),
    # int() reads these digits; the format's sequence is ASCII digits only.
    "the sequence in Arabic-Indic digits": Case(
        name("NONCOMM"), lambda: good().replace(b"|2|", "|\u0662|".encode()), "MMT-C006"
    ),
    "SQL as the trailer's count": Case(
        name("NONCOMM"), lambda: good().replace(b"TRL|1", b"TRL|1; DROP TABLE ledger"), "MMT-C012"
    ),
    "10,000 columns on a row of a control list": Case(
        name("EXCLCODE"), lambda: detail("EXCLCODE", _columns(10_000)), "MMT-C020", ("MMT-R001",)
    ),
    "10,000 fields in the header": Case(
        name("NONCOMM"),
        lambda: good().replace(b"|BUILD\n", b"|BUILD" + b"|X" * 9995 + b"\n"),
        "MMT-C006",
    ),
    "a 20 MB line and nothing else": Case(name("NONCOMM"), lambda: b"A" * MB20, "MMT-C005"),
    "a 20 MB header": Case(
        name("NONCOMM"), lambda: b"HDR|" + b"A" * MB20 + b"\nTRL|0\n", "MMT-C006"
    ),
    "a 20 MB value in a control list": Case(
        name("EXCLCODE"),
        lambda: detail("EXCLCODE", "NC04|" + "A" * MB20 + "|N|ADD"),
        "MMT-C020",
        ("MMT-R005",),
    ),
    "a 20 MB line instead of the trailer": Case(
        name("NONCOMM"),
        lambda: text(header("NONCOMM"), "MSN000003|NC01|20240103|ADD", "TRL" + "|" + "9" * MB20),
        "MMT-C012",
    ),
    "a 20 MB last line, no trailer": Case(
        name("NONCOMM"),
        lambda: text(header("NONCOMM"), "MSN000003|NC01|20240103|ADD", "M" * MB20),
        "MMT-C010",
    ),
    "a header and nothing else": Case(name("NONCOMM"), lambda: text(header("NONCOMM")), "MMT-C010"),
    "the trailer miscounts": Case(
        name("NONCOMM"), lambda: good().replace(b"TRL|1", b"TRL|2"), "MMT-C013"
    ),
    "two files joined": Case(
        name("NONCOMM"), lambda: good() + good(), "MMT-C011", ("MMT-C014", "MMT-C013")
    ),
    "sequence 1 again with other content": Case(
        name("NONCOMM"), lambda: good().replace(b"|2|", b"|1|"), "MMT-C017"
    ),
    "a loaded file's name with other content": Case(
        name("NONCOMM", stamp=BASE_STAMP), good, "MMT-C016"
    ),
    # Rolled back with the ledger entry written in the same transaction.
    "a complete list that would empty its list": Case(
        name("NONCOMM"), lambda: detail("NONCOMM", "MSN000003|NC01|20240103|ALL"), "MMT-C021"
    ),
    "a gap in the sequence": Case(
        name("NONCOMM"), lambda: good().replace(b"|2|", b"|4|"), "MMT-C019"
    ),
    "an outbound category": Case(
        name("DCCCAND"),
        lambda: text(header("DCCCAND"), "MSN000001|1234567890123|DMC1|T1", "TRL|1"),
        "MMT-C022",
    ),
}


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_a_hostile_file_is_refused_and_changes_no_data(
    front: str, case: Case, home: Path, tmp_path: Path
) -> None:
    path = tmp_path / case.name
    path.write_bytes(case.content())
    assert_refused(front, home, path, case.code, case.also)


@pytest.mark.parametrize("front", FRONTS)
def test_a_missing_file_and_a_folder_are_refused(front: str, home: Path, tmp_path: Path) -> None:
    missing = tmp_path / name("NONCOMM")
    assert_refused(front, home, missing, "MMT-C001")
    folder = tmp_path / name("MMT")
    folder.mkdir()
    assert_refused(front, home, folder, "MMT-C001")
    assert "folder" in audit(home, folder)[1]


@pytest.mark.parametrize("front", FRONTS)
def test_a_hostile_file_name_is_refused_and_stored_verbatim(
    front: str, home: Path, tmp_path: Path
) -> None:
    path = tmp_path / f"NONCOMM_BUILD_{STAMP}'; DROP TABLE ledger; --[bold].csv"
    path.write_bytes(good())
    assert_refused(front, home, path, "MMT-C002")


@pytest.mark.parametrize("front", FRONTS)
def test_a_superscript_digit_as_the_sequence_is_refused_not_a_crash(
    front: str, home: Path, tmp_path: Path
) -> None:
    path = tmp_path / name("NONCOMM")
    path.write_bytes(good().replace(b"|2|", "|\u00b2|".encode()))
    assert_refused(front, home, path, "MMT-C006")


def test_the_reason_of_a_refusal_is_shown_first_even_after_bad_rows(
    home: Path, tmp_path: Path
) -> None:
    path = tmp_path / name("NONCOMM")
    rows = [f"MSN0000{n:02d}|NC01|20241301|ADD" for n in range(10, 22)]  # 12 bad dates
    path.write_bytes(text(header("NONCOMM"), *rows, "TRL|13"))
    assert_refused("cli", home, path, "MMT-C013", ("MMT-R005",))


def test_a_refused_file_is_refused_again_and_logged_twice(home: Path, tmp_path: Path) -> None:
    path = tmp_path / name("NONCOMM")
    path.write_bytes(good().replace(b"TRL|1", b"TRL|7"))
    assert_refused("cli", home, path, "MMT-C013")
    assert_refused("cli", home, path, "MMT-C013")  # never in the ledger: never "skipped"
    with closing(sqlite3.connect(Place(home, ENV).database)) as db:
        outcomes = db.execute("SELECT outcome FROM loads WHERE file = ?", (str(path),)).fetchall()
        codes = db.execute(
            "SELECT code FROM errors JOIN loads USING (load_id) WHERE loads.file = ?", (str(path),)
        ).fetchall()
    assert outcomes == [(REFUSED,), (REFUSED,)]
    assert codes == [("MMT-C013",), ("MMT-C013",)]


def test_a_hostile_file_does_not_stop_the_good_ones_beside_it(home: Path, tmp_path: Path) -> None:
    hostile = tmp_path / name("EXCLCODE")
    hostile.write_bytes(detail("EXCLCODE", f"{SQL[0]}|x|N|ADD"))
    fine = tmp_path / name("NONCOMM")
    fine.write_bytes(good())
    before = snapshot(home)
    result = CliRunner().invoke(cli, ["--home", str(home), "load", str(hostile), str(fine)])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert audit(home, hostile)[0] == REFUSED and audit(home, fine)[0] == LOADED
    after = snapshot(home)
    assert after["list_exclcode"] == before["list_exclcode"]
    assert len(after["ledger"]) == len(before["ledger"]) + 1
    assert ("MSN000003", "NC01", "20240103") in [row[:3] for row in after["list_noncomm"]]


# -- random bytes ----------------------------------------------------------------------------


def assert_refused_or_loaded(
    front: str, home: Path, path: Path, category: str | None = None
) -> None:
    """Whatever ``path`` holds: no crash; refused with the parser's first code and no data
    changed, or accepted into the ledger, changing no list but its ``category``'s."""
    before = snapshot(home)
    parsed = parse(path, env=ENV)
    if front == "cli":
        result = CliRunner().invoke(cli, ["--home", str(home), "load", str(path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code in (0, 1), result.output
    else:
        loader.load(Place(home, ENV), [path])
    outcome, message, errors = audit(home, path)
    event(f"{outcome} {message[:8] if outcome == REFUSED else ''}")
    if parsed.refused:
        code = parsed.control_failures[0].code
        assert outcome == REFUSED and message.startswith(f"{code} ")
        assert code in [error[0] for error in errors]
    after = snapshot(home)
    if outcome == REFUSED:
        assert after == before
    else:
        assert len(after["ledger"]) == len(before["ledger"]) + 1
        assert category is not None
        changed = {f"list_{category.lower()}", "ledger"}
        assert {t: after[t] for t in after if t not in changed} == {
            t: before[t] for t in before if t not in changed
        }


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=4096), front=st.sampled_from(FRONTS))
def test_random_bytes_are_refused(base_home: Path, data: bytes, front: str) -> None:
    with fresh(base_home) as (home, files):
        path = files / name("NONCOMM")
        path.write_bytes(data)
        assert_refused_or_loaded(front, home, path)


@settings(max_examples=100, deadline=None)
@given(
    category=st.sampled_from(["EXCLCODE", "NONCOMM", "MANEXCL", "MMT"]),
    data=st.binary(max_size=4096),
    front=st.sampled_from(FRONTS),
)
def test_random_bytes_after_a_valid_header_are_refused(
    base_home: Path, category: str, data: bytes, front: str
) -> None:
    with fresh(base_home) as (home, files):
        path = files / name(category)
        sequence = 2 if category in BASE else 1
        path.write_bytes(f"{header(category, sequence)}\n".encode() + data)
        assert_refused_or_loaded(front, home, path, category)


# Pieces of files and of fields.
_PIECES = st.sampled_from(
    [
        "HDR",
        "TRL",
        "|",
        ",",
        "\n",
        "\r\n",
        "\r",
        "\x00",
        " ",
        "",
        "\ufeff",
        "\xe9",
        "ADD",
        "REMOVE",
        "ALL",
        "NC01",
        "SW03",
        "ZZ99",
        "MSN000001",
        "MSN000009",
        "20240101",
        "1",
        "2",
        "0",
        "\u00b2",
        "BUILD",
        "PROD",
        "NONCOMM",
        "MANEXCL",
        "EXCLCODE",
        STAMP,
        *SQL,
    ]
)


@settings(max_examples=100, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=60), category=st.sampled_from(["NONCOMM", "MANEXCL"]))
def test_any_text_is_refused_or_loaded_never_a_crash(
    base_home: Path, pieces: list[str], category: str
) -> None:
    with fresh(base_home) as (home, files):
        path = files / name(category)
        path.write_bytes("".join(pieces).encode())
        assert_refused_or_loaded("library", home, path)


@st.composite
def hostile_files(draw: st.DrawFn, category: str) -> bytes:
    """A valid header, rows of hostile fields, and a trailer that mostly counts them."""
    field = st.lists(_PIECES, max_size=3).map("".join)
    rows = draw(st.lists(st.lists(field, min_size=1, max_size=6).map("|".join), max_size=14))
    count = draw(st.one_of(st.just(len(rows)), st.integers(0, 15)))
    sequence = 2 if category in BASE else 1
    return text(header(category, sequence), *rows, f"TRL|{count}")


@settings(max_examples=150, deadline=None)
@given(data=st.data(), category=st.sampled_from(["EXCLCODE", "NONCOMM", "MANEXCL"]))
def test_any_rows_are_refused_or_loaded_never_a_crash(
    base_home: Path, data: st.DataObject, category: str
) -> None:
    with fresh(base_home) as (home, files):
        path = files / name(category)
        path.write_bytes(data.draw(hostile_files(category)))
        assert_refused_or_loaded("library", home, path, category)


# -- bad rows within the budget --------------------------------------------------------------


def test_bad_rows_within_the_budget_are_listed_and_the_good_rows_load(
    home: Path, tmp_path: Path
) -> None:
    path = tmp_path / name("NONCOMM")
    path.write_bytes(
        detail(
            "NONCOMM",
            "MSN000003|NC01|20240103|ADD",  # 2: added
            "MSN000004|ZZ99|20240104|ADD",  # 3: not a code of the EXCLCODE list
            f"{SQL[0]}|NC01|20240104|ADD",  # 4: not an MSN
            "MSN000005|NC01|20241301|ADD",  # 5: no 13th month
            "MSN000001|||REMOVE",  # 6: removed
            "MSN000002|SW03|20240202|ADD",  # 7: changed
            "MSN000006|NC01|20240105",  # 8: no action
        )
    )
    before = snapshot(home)
    result = CliRunner().invoke(cli, ["--home", str(home), "load", str(path)])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert result.output.startswith(f"loaded with errors {path} (NONCOMM 2): ")
    assert "7 read, 1 added, 1 changed, 1 removed, 4 rejected" in result.output
    outcome, _, errors = audit(home, path)
    assert outcome == LOADED_WITH_ERRORS
    assert errors == [
        ("MMT-R009", 3, "reason_code"),
        ("MMT-R003", 4, "msn"),
        ("MMT-R005", 5, "detected_date"),
        ("MMT-R001", 8, None),
    ]
    with closing(sqlite3.connect(Place(home, ENV).database)) as db:
        rows = db.execute(
            "SELECT msn, reason_code, detected_date, name FROM list_noncomm "
            "JOIN ledger USING (file_id) ORDER BY msn"
        ).fetchall()
    assert rows == [
        ("MSN000002", "SW03", "20240202", path.name),
        ("MSN000003", "NC01", "20240103", path.name),
    ]
    after = snapshot(home)
    assert {table: after[table] for table in after if table not in ("list_noncomm", "ledger")} == {
        table: before[table] for table in before if table not in ("list_noncomm", "ledger")
    }
    assert sorted(set(after["ledger"]) - set(before["ledger"])) == [(path.name, sha256(path))]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- SQL-like free text is valid text --------------------------------------------------------


def manexcl(comments: list[str]) -> list[tuple[str, ...]]:
    return [(f"MSN{n:06d}", "MX02", comment, "ADD") for n, comment in enumerate(comments, 1)]


def schema_of(home: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(Place(home, ENV).database)) as db:
        return db.execute("SELECT name, sql FROM sqlite_schema ORDER BY name").fetchall()


def stored_comments(home: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(Place(home, ENV).database)) as db:
        rows = db.execute("SELECT msn, reason_code, comment FROM list_manexcl ORDER BY msn")
        return rows.fetchall()


def test_sql_in_free_text_is_stored_verbatim(home: Path, tmp_path: Path) -> None:
    comments = [*SQL, "x" * TEXT_MAX, "", "  spaces kept  ", "\\x00 is not a NUL"]
    path = tmp_path / name("MANEXCL")
    path.write_bytes(write("MANEXCL", ENV, 1, STAMP, manexcl(comments)))
    before, tables = snapshot(home), schema_of(home)
    result = CliRunner().invoke(cli, ["--home", str(home), "load", str(path)])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert result.output.startswith(f"loaded {path} (MANEXCL 1): ")
    assert stored_comments(home) == [row[:3] for row in manexcl(comments)]
    after = snapshot(home)
    assert {t: rows for t, rows in after.items() if t not in ("list_manexcl", "ledger")} == {
        t: rows for t, rows in before.items() if t not in ("list_manexcl", "ledger")
    }
    assert schema_of(home) == tables


# Free text as the format allows it: no control character (C0, DEL, C1), no delimiter.
_FREE_TEXT = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="|"), max_size=TEXT_MAX
)


@settings(max_examples=40, deadline=None)
@given(comments=st.lists(_FREE_TEXT, min_size=1, max_size=5))
def test_any_free_text_is_stored_verbatim(base_home: Path, comments: list[str]) -> None:
    with fresh(base_home) as (home, files):
        path = files / name("MANEXCL")
        path.write_bytes(write("MANEXCL", ENV, 1, STAMP, manexcl(comments)))
        run = loader.load(Place(home, ENV), [path])
        assert [file.outcome for file in run.files] == [LOADED]
        assert stored_comments(home) == [row[:3] for row in manexcl(comments)]
