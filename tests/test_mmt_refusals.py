"""What a user types wrong is refused in one line, with the right exit, and destroys nothing.

Usage mistakes (out-of-range numbers, an empty path, standard input where a file's name is
needed) are exit 2; a file that cannot be written or exists already is exit 1; never exit 4,
never a Python ``[Errno n]`` or ``None``, never a hidden temporary's name.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mmtlite.paths import Place
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_children import interrupted_when_ready
from tests.mmt_helpers import digest
from tests.test_mmt_conventions import CHILD_ENV


def run(*arguments: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(arguments), env=env)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A build environment with a generated set loaded."""
    home = tmp_path / "home"
    assert run("--home", str(home), "generate", "--meters", "50", "--seed", "3").exit_code == 0
    assert run("--home", str(home), "ingest", "-q").exit_code == 0
    return home


def meters(home: Path) -> int:
    with sqlite3.connect(home / "mmt_build.sqlite") as connection:
        count: int = connection.execute("SELECT count(*) FROM meters").fetchone()[0]
    return count


@pytest.mark.parametrize(
    "name",
    [
        "mmt_build.sqlite",
        "mmt_build.sqlite-wal",
        "mmt_build.sqlite-shm",
        "mmt_sogl.sqlite",
        "mmt_build.lock",
        "link-to-the-database",
    ],
)
def test_the_html_report_never_goes_over_a_database_file(home: Path, name: str) -> None:
    (home / "link-to-the-database").symlink_to(home / "mmt_build.sqlite")
    before = meters(home)
    result = run("--home", str(home), "report", "--html", str(home / name))
    assert result.exit_code == 2, result.output
    assert "is a database file" in result.stderr
    assert meters(home) == before
    assert run("--home", str(home), "status").exit_code == 0


@pytest.mark.parametrize(
    "arguments",
    [
        ["generate", "--meters", "200000000"],
        ["generate", "--meters", "1", "--created", "99991231235959"],
        ["template", "mmt", "--sequence", "99999999999999999999"],
        ["log", "--limit", "99999999999999999999"],
        ["errors", "--load", "99999999999999999999"],
        ["select", "--size", "99999999999999999999", "--tranche", "BIG"],
        ["report", "--html", ""],
        ["respond", "dcc", "--tranche", "T1", "--fail", "nan"],
        ["load", "--max-delete", "nan", "x.csv"],
        ["load", "-"],
        ["validate", "-"],
        ["wrap", "manexcl", "rows.csv", "-o", "x/file.csv"],
    ],
)
def test_what_a_user_typed_wrong_is_a_usage_error(
    home: Path, arguments: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = digest(Place(home, "build"))
    monkeypatch.chdir(home)  # relative paths stay in the test's folder
    result = run("--home", str(home), *arguments)
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert digest(Place(home, "build")) == before  # nothing logged, nothing loaded
    assert not (home / "x").exists()  # wrap made no folder named file.csv


def test_standard_input_is_refused_with_the_reason(home: Path) -> None:
    result = run("--home", str(home), "load", "-")
    assert "standard input (-) is not supported" in result.stderr
    assert "file's name carries its category, environment and stamp" in result.stderr


def test_generate_never_overwrites_a_loaded_set(home: Path) -> None:
    [master] = (home / "mmt").glob("system_data_build/mmt/inbound/MMT_*.csv")
    before = master.read_bytes()
    result = run("--home", str(home), "generate", "--meters", "50", "--seed", "4")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"mmtlite: {home / 'mmt/system_data_build/exclcode/inbound'}/"
        "EXCLCODE_BUILD_20240101090000.csv exists already: nothing written"
    ]
    assert master.read_bytes() == before


def test_an_unwritable_html_path_is_named(home: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    page = blocked / "x.html"
    result = run("--home", str(home), "report", "--html", str(page))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"mmtlite: cannot write {page}: a part of its folder is a file"
    ]


def test_a_file_as_home_is_one_line_without_an_errno(tmp_path: Path) -> None:
    home = tmp_path / "a-file"
    home.write_text("")
    result = run("status", env={"MMTLITE_HOME": str(home)})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"mmtlite: {home} cannot be the home: it (or a folder above it) is a file"
    ]


def test_an_unreadable_file_is_rendered_without_none(home: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "nonexist.csv")
    validated = run("--home", str(home), "validate", missing)
    loaded = run("--home", str(home), "load", missing)
    logged = run("--home", str(home), "log", "--limit", "1")
    assert validated.exit_code == loaded.exit_code == 1
    assert validated.stdout.splitlines()[0] == f"REFUSED {missing}: 0 good rows"
    assert loaded.stdout.splitlines()[0].startswith(f"refused {missing}: 0 read")
    assert "nonexist.csv: 0 read" in logged.stdout
    for output in (validated.stdout, loaded.stdout, logged.stdout):
        assert "None" not in output and "? ?" not in output and "(?)" not in output


def test_wrap_writes_into_the_folder_output_names(home: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("MSN000001|MX01|a comment\n")
    out = tmp_path / "out"
    result = run(
        "--home", str(home), "wrap", "manexcl", str(rows), "--action", "add", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    [written] = out.iterdir()
    assert written.name.startswith("MANEXCL_BUILD_") and written.is_file()


# A real mmtlite process whose generate stops while its fourth file is being written, until a
# signal comes: where Ctrl-C must leave no file of the set.
PAUSED_GENERATE = """
import sys, time
from pathlib import Path
from mmtlite import generator
from nem2cdr_cli.mmtlite_commands import main

ready = Path(sys.argv.pop(1))
output_file = generator.output_file
opened = []


def paused(*args, **kwargs):
    opened.append(args)
    if len(opened) == 4:
        ready.touch()
        time.sleep(60)
    return output_file(*args, **kwargs)


generator.output_file = paused
sys.argv[0] = "mmtlite"
main()
"""


@pytest.mark.slow
def test_ctrl_c_during_generate_leaves_no_file_of_the_set(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    out = tmp_path / "set"
    command = [
        sys.executable,
        "-c",
        PAUSED_GENERATE,
        str(ready),
        "--home",
        str(tmp_path / "home"),
        "generate",
        "--meters",
        "2000",
        "-o",
        str(out),
    ]

    def three_on_their_way() -> None:
        assert sorted(path.name[:5] for path in out.iterdir()) == [".DMCT", ".EPCL", ".EXCL"]

    returncode, stderr = interrupted_when_ready(command, ready, CHILD_ENV, three_on_their_way)
    assert returncode == 130
    assert stderr.splitlines() == ["mmtlite: interrupted"]
    assert list(out.iterdir()) == []


def test_an_html_page_into_a_pipe_is_written_to_the_pipe(home: Path, tmp_path: Path) -> None:
    """``--html /dev/stdout`` or a FIFO: written into it, not replaced by a file of its name."""
    fifo = tmp_path / "page.fifo"
    os.mkfifo(fifo)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        result = run("--home", str(home), "report", "--html", str(fifo))
    finally:
        reader.join(timeout=10)
        if reader.is_alive():  # the report never opened it: let the waiting reader go
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert read[0].startswith(b"<!DOCTYPE html>")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
