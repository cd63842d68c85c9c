"""mmtlite's command-line conventions: global options anywhere, ``-`` for stdin and stdout,
contradictions are usage errors, Ctrl-C and a closed pipe end cleanly, ``--version``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mmtlite.paths import Place
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_children import interrupted_when_ready
from tests.mmt_helpers import Files, codes_file, digest, make, meter

REPO = Path(__file__).resolve().parents[1]
CHILD_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), str(REPO / "cli"), os.environ.get("PYTHONPATH")])
    ),
}


def run(*arguments: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(arguments), input=stdin)


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """A home whose build environment holds a master list of two meters."""
    home = tmp_path / "home"
    files = tmp_path / "files"
    files.mkdir()
    paths = [codes_file(files), make(files, "MMT", 1, [meter("MSN000001"), meter("MSN000002")])]
    assert run("--home", str(home), "load", *map(str, paths)).exit_code == 0
    return home


@pytest.mark.parametrize(
    "command",
    [["status"], ["log", "--limit", "1"], ["errors"], ["report"], ["history", "MSN000001"]],
)
def test_home_and_env_go_before_or_after_the_command(loaded: Path, command: list[str]) -> None:
    before = run("--home", str(loaded), "--env", "build", *command, "--format", "json")
    after = run(*command, "--format", "json", "--home", str(loaded), "--env", "build")
    assert before.exit_code == after.exit_code == 0, (before.output, after.output)
    mask = "generated_at"
    first, second = json.loads(before.output), json.loads(after.output)
    if isinstance(first, dict):
        first.pop(mask, None), second.pop(mask, None)
    assert first == second


def test_the_options_after_the_command_win(loaded: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    status = run("--home", str(other), "status", "--format", "json", "--home", str(loaded))
    assert json.loads(status.output)["meters"] == 2
    sogl = run("--home", str(loaded), "status", "--env", "sogl", "--format", "json")
    # The options after the command chose sogl, which does not exist: said, and not created.
    assert sogl.exit_code == 1 and "mmt_sogl.sqlite does not exist" in sogl.output
    assert not (loaded / "mmt_sogl.sqlite").exists() and not other.exists()


def test_report_html_dash_writes_the_page_to_stdout(loaded: Path) -> None:
    result = run("--home", str(loaded), "report", "--html", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>") and result.stdout.endswith("</html>\n")
    assert not list(loaded.glob("*.html")) and not Path("-").exists()


def test_wrap_reads_rows_from_stdin_and_writes_to_stdout(loaded: Path) -> None:
    rows = b"MSN000001,NC01,20240101\n"
    result = run(
        "--home", str(loaded), "wrap", "NONCOMM", "-", "--action", "ADD", "-o", "-", stdin=rows
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("HDR|NONCOMM|1|") and lines[1:] == [
        "MSN000001|NC01|20240101|ADD",
        "TRL|1",
    ]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["report", "--html", "-", "--format", "json"], "cannot go with --format"),
        (["export", "cs", "--tranche", "T1", "--migration-date", "20240601"], "for export mdm"),
        (["export", "dcc", "--tranche", "T1", "--migration-date", "20240601"], "for export mdm"),
        (
            [
                "export",
                "mdm",
                "--tranche",
                "T1",
                "--migration-date",
                "20240601",
                "--note-code",
                "X1",
            ],
            "for export cs",
        ),
        (["export", "mdm", "--tranche", "T1"], "--migration-date"),
        (["export", "mdm", "--tranche", "T1", "--migration-date", "20241301"], "20241301"),
        (["export", "cs", "--tranche", "T1", "--note-code", "no good"], "--note-code"),
        (["load", "--error-budget", "5 rows", "x.csv"], "--error-budget"),
        (["generate", "--meters", "1", "--created", "2024"], "--created"),
    ],
)
def test_contradictions_and_impossible_values_are_usage_errors(
    loaded: Path, arguments: list[str], says: str
) -> None:
    before = digest(Place(loaded, "build"))
    result = run("--home", str(loaded), *arguments)
    assert result.exit_code == 2, result.output
    assert says in result.stderr and "Traceback" not in result.output
    assert digest(Place(loaded, "build")) == before


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("mmtlite, version ")


# A real mmtlite process whose load stops inside the file's transaction (its rows written, not
# committed) until a signal comes: where Ctrl-C must leave nothing behind.
PAUSED_LOAD = """
import sys, time
from pathlib import Path
from mmtlite import loader
from nem2cdr_cli.mmtlite_commands import main

ready = Path(sys.argv.pop(1))
apply = loader.apply


def paused(*args, **kwargs):
    applied = apply(*args, **kwargs)
    ready.touch()
    time.sleep(60)
    return applied


loader.apply = paused
sys.argv[0] = "mmtlite"
main()
"""


@pytest.mark.slow
def test_ctrl_c_during_a_load_exits_130_with_one_line_and_changes_nothing(
    tmp_path: Path,
) -> None:
    files = Files(tmp_path)
    assert (
        run("--home", str(files.place.root), "load", str(codes_file(files.folder))).exit_code == 0
    )
    before = digest(files.place)
    ready = tmp_path / "ready"
    big = files.path("MMT", [meter(f"MSN{n:06d}", site=f"S{n}") for n in range(5000)])
    command = [
        sys.executable,
        "-c",
        PAUSED_LOAD,
        str(ready),
        "--home",
        str(files.place.root),
        "load",
        str(big),
    ]
    returncode, stderr = interrupted_when_ready(command, ready, CHILD_ENV)
    assert returncode == 130
    assert stderr.splitlines() == ["mmtlite: interrupted"]
    assert digest(files.place) == before


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``mmtlite errors --format csv | head -1``: far more lines than a pipe holds."""
    folder = tmp_path / "files"
    folder.mkdir()
    bad = make(folder, "NONCOMM", 1, [(f"MSN{n:06d}", "NC01", "bad", "ADD") for n in range(5000)])
    home = tmp_path / "home"
    assert run("--home", str(home), "load", str(bad)).exit_code == 1
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from nem2cdr_cli.mmtlite_commands import main; main()",
            "--home",
            str(home),
            "errors",
            "--format",
            "csv",
            "--limit",
            "100000",
        ],
        env=CHILD_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.readline()
    child.stdout.close()  # what head does after its line
    code = child.wait(timeout=60)
    assert first.startswith(b"code,file,line,column,message,load_id")
    assert (code, child.stderr.read()) == (0, b"")
    child.stderr.close()
