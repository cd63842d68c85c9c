"""Damaged databases and missing environments (docs/mmtlite.md, "Damaged databases"): a real
database, corrupted the ways a disk, a copy or a person does, is never read or written as if
sound. Every command says so in one line naming the file and what to do, exit 1 (never 4, never a
traceback); ``check-db`` finds what the cheap checks leave to it. Read-only commands never create
a home or a database."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import mmtlite
from mmtlite.db import SchemaError, explained, open_file, transaction
from nem2cdr_cli.mmtlite_commands import cli

PAGE = 4096


def run(home: Path, *args: str, env: str = "build") -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), "--env", env, *args])


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home of 300 generated meters, ingested; closed (no WAL left)."""
    home = tmp_path_factory.mktemp("sound") / "mmt"
    db = mmtlite.open(home)
    db.generate(300, seed=3)
    db.ingest()
    assert not Path(f"{db.database}-wal").exists()
    return home


def root_page(database: Path, table: str) -> int:
    with closing(sqlite3.connect(database)) as connection:
        (page,) = connection.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)
        ).fetchone()
    return int(page)


def truncate_to_0(database: Path) -> None:
    database.write_bytes(b"")


def truncate_mid_page(database: Path) -> None:
    data = database.read_bytes()
    database.write_bytes(data[: len(data) // 2 + PAGE // 2])


def flip_header_byte(database: Path) -> None:
    flip(database, 0)  # the 'S' of "SQLite format 3"


def flip_btree_byte(database: Path) -> None:
    # The page-type byte of the root page of the index that status counts meters with.
    flip(database, (root_page(database, "meters_by_status") - 1) * PAGE)


def zero_a_page(database: Path, table: str = "list_mmt") -> None:
    at = (root_page(database, table) - 1) * PAGE
    with open(database, "r+b") as file:
        file.seek(at)
        file.write(bytes(PAGE))


def zero_a_meters_page(database: Path) -> None:
    zero_a_page(database, "meters")


def flip(database: Path, at: int) -> None:
    with open(database, "r+b") as file:
        file.seek(at)
        byte = file.read(1)[0]
        file.seek(at)
        file.write(bytes([byte ^ 0xFF]))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated to 0": truncate_to_0,
    "truncated mid-page": truncate_mid_page,
    "a header byte flipped": flip_header_byte,
    "a b-tree byte flipped": flip_btree_byte,
    "a page zeroed": zero_a_page,
}
# select and export check the tables they read and write (docs/mmtlite.md): their page zeroed
# is one of meters.
TRANCHE_DAMAGES = {
    **{name: damage for name, damage in DAMAGES.items() if name != "a page zeroed"},
    "a meters page zeroed": zero_a_meters_page,
}


def damage(sound: Path, tmp_path: Path, how: Callable[[Path], None]) -> Path:
    """A copy of the sound home with its database damaged ``how``."""
    home = tmp_path / "mmt"
    shutil.copytree(sound, home)
    database = home / "mmt_build.sqlite"
    assert database.stat().st_size % PAGE == 0  # the page arithmetic above holds
    how(database)
    return home


@pytest.fixture(params=list(DAMAGES))
def damaged(request: pytest.FixtureRequest, sound: Path, tmp_path: Path) -> Path:
    """A copy of the sound home with its database damaged one way."""
    return damage(sound, tmp_path, DAMAGES[request.param])


def one_line_naming(result: Result, database: Path) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(database) in lines[0]
    return lines[0]


SELECT = ("select", "--size", "10", "--tranche", "T1")


def a_new_inbound_file(home: Path) -> Path:
    """The generated NONCOMM list again as its sequence 2 (a file new to the ledger)."""
    generated = next(home.glob("mmt/*/noncomm/inbound/*.csv"))
    extra = generated.with_name("NONCOMM_BUILD_20250101000000.csv")
    extra.write_bytes(generated.read_bytes().replace(b"|1|", b"|2|", 1))
    return extra


@pytest.mark.parametrize(
    ("command", "how"),
    [
        (command, how)
        for command in (SELECT, ("export", "dcc", "--tranche", "T1"))
        for how in TRANCHE_DAMAGES.values()
    ],
)
def test_a_writer_refuses_a_damaged_database(
    sound: Path, tmp_path: Path, command: tuple[str, ...], how: Callable[[Path], None]
) -> None:
    damaged = damage(sound, tmp_path, how)
    before = (damaged / "mmt_build.sqlite").read_bytes()
    line = one_line_naming(run(damaged, *command), damaged / "mmt_build.sqlite")
    assert "backup" in line
    assert (damaged / "mmt_build.sqlite").read_bytes() == before
    assert not list(damaged.glob("dcc/*/dcccand/outbound/*"))


@pytest.mark.parametrize("how", DAMAGES.values(), ids=list(DAMAGES))
def test_a_load_with_a_file_to_apply_refuses_a_damaged_database(
    sound: Path, tmp_path: Path, how: Callable[[Path], None]
) -> None:
    """Every page is checked before the first file new to the ledger: nothing of it applied
    (a damage the open finds leaves the file as it was; a page's damage lets the run log its
    refusal, in the log tables it checked)."""
    damaged = damage(sound, tmp_path, how)
    database = damaged / "mmt_build.sqlite"
    before = database.read_bytes()
    a_new_inbound_file(damaged)
    line = one_line_naming(run(damaged, "ingest", "-q"), database)
    assert "backup" in line
    if how in (zero_a_page, flip_btree_byte):
        with closing(sqlite3.connect(database)) as connection:
            assert connection.execute("SELECT count(*) FROM ledger").fetchone() == (8,)
            assert connection.execute(
                "SELECT outcome FROM runs ORDER BY run_id DESC LIMIT 1"
            ).fetchone() == ("refused: the database is damaged",)
    else:
        assert database.read_bytes() == before


def test_a_load_refused_as_damaged_logs_its_file_as_refused_not_started(
    sound: Path, tmp_path: Path
) -> None:
    """The check of every page runs beside the file's parsing and applying: when it fails, the
    file's transaction is rolled back and its log entry says why (no entry is left open for the
    next run to call aborted)."""
    home = damage(sound, tmp_path, zero_a_page)
    database = home / "mmt_build.sqlite"
    extra = a_new_inbound_file(home)
    one_line_naming(run(home, "ingest", "-q"), database)
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute(
            "SELECT outcome, message FROM loads WHERE file = ?", (str(extra),)
        ).fetchall() == [("refused", "the database is damaged: nothing of it was applied")]
        assert connection.execute(
            "SELECT count(*) FROM loads WHERE outcome = 'started'"
        ).fetchone() == (0,)


def list_page(database: Path) -> bytes:
    at = (root_page(database, "list_mmt") - 1) * PAGE
    return database.read_bytes()[at : at + PAGE]


def test_a_rerun_passes_a_damaged_list_page_it_never_writes_and_the_next_load_refuses(
    sound: Path, tmp_path: Path
) -> None:
    """The decision of docs/mmtlite.md: a run with nothing to apply (every file already loaded)
    checks the log tables it writes; the damaged master-list page waits for the next load
    with a file to apply, which refuses it in one line."""
    home = damage(sound, tmp_path, zero_a_page)
    database = home / "mmt_build.sqlite"
    damaged_page = list_page(database)
    assert damaged_page == bytes(PAGE)
    again = run(home, "ingest", "-q")
    assert again.exit_code == 0, again.output
    loaded = next(home.glob("mmt/*/mmt/inbound/*.csv"))
    rerun = run(home, "load", str(loaded))
    assert rerun.exit_code == 0, rerun.output
    assert "already loaded" in rerun.output
    assert list_page(database) == damaged_page  # written by neither
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT count(*) FROM ledger").fetchone() == (8,)
    a_new_inbound_file(home)
    line = one_line_naming(run(home, "ingest", "-q"), database)
    assert "damaged" in line
    assert list_page(database) == damaged_page


def test_a_selection_passes_a_damaged_list_page_it_never_reads_and_the_next_load_refuses(
    sound: Path, tmp_path: Path
) -> None:
    """The decision of docs/mmtlite.md: select checks only what it reads and writes (a tranche
    in a second at a million meters); a damaged master-list page waits for the next load."""
    home = damage(sound, tmp_path, zero_a_page)
    assert run(home, *SELECT).exit_code == 0
    assert list(home.glob("dcc/*/dcccand/outbound/*"))
    a_new_inbound_file(home)
    line = one_line_naming(run(home, "ingest", "-q"), home / "mmt_build.sqlite")
    assert "damaged" in line


CUT_OR_FOREIGN = ["truncated to 0", "truncated mid-page", "a header byte flipped"]


@pytest.mark.parametrize("damage", CUT_OR_FOREIGN)
def test_a_reader_refuses_a_database_whose_file_is_cut_or_foreign(
    sound: Path, tmp_path: Path, damage: str
) -> None:
    home = tmp_path / "mmt"
    shutil.copytree(sound, home)
    DAMAGES[damage](home / "mmt_build.sqlite")
    for command in (("status",), ("report",), ("log",), ("errors",)):
        one_line_naming(run(home, *command), home / "mmt_build.sqlite")


def test_a_reader_meeting_a_damaged_page_says_so_in_one_line(sound: Path, tmp_path: Path) -> None:
    home = tmp_path / "mmt"
    shutil.copytree(sound, home)
    flip_btree_byte(home / "mmt_build.sqlite")
    line = one_line_naming(run(home, "status"), home / "mmt_build.sqlite")
    assert "damaged" in line


def test_check_db_finds_every_damage(damaged: Path) -> None:
    result = run(damaged, "check-db")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert str(damaged / "mmt_build.sqlite") in result.output


def test_check_db_passes_a_sound_database(sound: Path) -> None:
    result = run(sound, "check-db")
    assert result.exit_code == 0, result.output
    assert mmtlite.open(sound).check() == []


def test_the_library_raises_a_schema_error_for_a_damaged_database(damaged: Path) -> None:
    db = mmtlite.open(damaged)
    a_new_inbound_file(damaged)
    with pytest.raises(SchemaError, match=r"mmt_build\.sqlite"):
        db.ingest()


READERS = [("status",), ("report",), ("log",), ("errors",), ("history", "X"), ("check-db",)]


@pytest.mark.parametrize("command", READERS)
def test_a_read_only_command_never_creates_a_home(tmp_path: Path, command: tuple[str, ...]) -> None:
    home = tmp_path / "nowhere"
    line = one_line_naming(run(home, *command), home / "mmt_build.sqlite")
    assert "does not exist" in line
    assert not home.exists()


@pytest.mark.parametrize("command", READERS)
def test_a_read_only_command_never_creates_another_environment(
    sound: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    home = tmp_path / "mmt"
    shutil.copytree(sound, home)
    one_line_naming(run(home, *command, env="sogl"), home / "mmt_sogl.sqlite")
    assert not (home / "mmt_sogl.sqlite").exists()


def test_a_refused_respond_in_prod_leaves_no_database(tmp_path: Path) -> None:
    result = run(tmp_path / "mmt", "respond", "dcc", "--tranche", "T1", env="prod")
    assert result.exit_code == 1
    assert not (tmp_path / "mmt").exists()


def test_environment_names_are_case_insensitive_before_and_after_the_command(
    sound: Path,
) -> None:
    assert run(sound, "status", env="BUILD").output.startswith("build: 300 meters")
    after = CliRunner().invoke(cli, ["status", "--env", "Build", "--home", str(sound)])
    assert after.exit_code == 0, after.output
    assert after.output.startswith("build: 300 meters")
    assert mmtlite.open(sound, "BUILD").env == "build"  # type: ignore[arg-type]


def test_a_read_only_database_is_one_line(sound: Path, tmp_path: Path) -> None:
    home = tmp_path / "mmt"
    shutil.copytree(sound, home)
    a_new_inbound_file(home)
    (home / "mmt_build.sqlite").chmod(0o444)
    try:
        result = run(home, "ingest", "-q")
    finally:
        (home / "mmt_build.sqlite").chmod(0o644)
    if result.exit_code == 0:
        pytest.skip("running as a user who writes read-only files (root)")
    one_line_naming(result, home / "mmt_build.sqlite")


def test_a_full_disk_is_told_as_such_not_as_a_failed_rollback(tmp_path: Path) -> None:
    # SQLite's own "database or disk is full", made real by a page limit on the connection.
    database = tmp_path / "mmt_build.sqlite"
    connection = open_file(database, create=True)
    connection.execute("CREATE TABLE t (x)")
    connection.execute("PRAGMA max_page_count = 3")
    with pytest.raises(sqlite3.OperationalError) as raised, transaction(connection):
        connection.execute("INSERT INTO t SELECT zeroblob(100000)")
    connection.close()
    line = str(explained(database, raised.value))
    assert line.startswith(f"{database}: the disk is full: what was being written was rolled")
    assert "rollback" not in line


@pytest.mark.slow
def test_a_database_being_created_is_never_seen_empty(tmp_path: Path) -> None:
    # A new database is built beside and linked into place whole: the readers and writers
    # racing its creation see no database, or a whole one, never SQLite's empty first file.
    home = tmp_path / "mmt"
    mmtlite_command = str(Path(sys.executable).parent / "mmtlite")
    commands = [["init"], ["status"]] * 6
    children = [
        subprocess.Popen(
            [mmtlite_command, "--home", str(home), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for command in commands
    ]
    said = [child.communicate(timeout=120)[0].decode() for child in children]
    for command, child, output in zip(commands, children, said, strict=True):
        assert "0 bytes" not in output and "damaged" not in output, output
        assert child.returncode == 0 or "does not exist" in output, (command, output)
    assert [path.name for path in home.glob(".*")] == []
