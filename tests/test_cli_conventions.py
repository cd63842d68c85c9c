"""The commands' conventions (nem2cdr's, and mmtlite's where they share the code): usage
errors exit 2, ``-`` is standard input or output, a closed pipe ends quietly, Ctrl-C exits 130
leaving nothing behind, ``--version``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr_cli.nem2cdr_commands import cli

SAMPLE = str(
    Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"
)
NEM2CDR = str(Path(sys.executable).parent / "nem2cdr")
MMTLITE = str(Path(sys.executable).parent / "mmtlite")
USAGE = 2
INTERRUPTED = 130


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["convert", "--all-pages", "pages", "-o", "x.json", SAMPLE], "takes no -o/--output"),
        (["convert", "--all-pages", "pages", "--page", "2", SAMPLE], "cannot both"),
        (
            ["convert", "--oldest-date", "2024-02-01", "--newest-date", "2024-01-31", SAMPLE],
            "the oldest date 2024-02-01 is after the newest date 2024-01-31",
        ),
        (["convert", "--workers", "0", SAMPLE], "neither a whole number from 1 nor 'auto'"),
        (["experiments", "--chart", "-", SAMPLE], "--chart needs a file"),
        (["experiments", "--chart", "", SAMPLE], "need a name"),
        (["experiments", "--out-dir", "", SAMPLE], "need a name"),
        (["convert", "--jsonl", "--all-pages", "pages", SAMPLE], "no pages to write apart"),
        (
            ["convert", "--service-point-id", "nmi", "--namespace", str(uuid.uuid4()), SAMPLE],
            "means nothing with --service-point-id nmi",
        ),
        (["experiments", "--workers", "many", SAMPLE], "neither a whole number"),
        (["experiments", "--only", "99", SAMPLE], "unknown experiment 99"),
    ],
    ids=lambda value: value[1] if isinstance(value, list) else None,
)
def test_conflicting_or_reversed_options_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == USAGE, done.output
    assert said in done.stderr
    assert list(tmp_path.iterdir()) == []  # refused before any work


def test_the_same_day_as_oldest_and_newest_is_fine(tmp_path: Path) -> None:
    args = ["--oldest-date", "2024-01-31", "--newest-date", "2024-01-31", SAMPLE]
    done = CliRunner().invoke(cli, ["convert", "-q", *args, "-o", str(tmp_path / "x.json")])
    assert done.exit_code == 0, done.output


def test_version() -> None:
    done = CliRunner().invoke(cli, ["--version"])
    assert done.exit_code == 0
    assert done.stdout == f"nem2cdr, version {nem2cdr.__version__}\n"


def test_a_dash_reads_standard_input(tmp_path: Path) -> None:
    data = Path(SAMPLE).read_bytes()
    runner = CliRunner()
    done = runner.invoke(cli, ["experiments", "--only", "00", "--format", "csv", "-"], input=data)
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[1].startswith("00,baseline,yes,ok,")
    converted = runner.invoke(cli, ["convert", "-q", "--page", "1", "-"], input=data)
    assert converted.exit_code == 0
    checked = runner.invoke(cli, ["check", "-"], input=converted.stdout_bytes)
    assert (checked.exit_code, checked.stdout) == (0, "ok -\n")


def test_generate_writes_standard_output() -> None:
    done = CliRunner().invoke(cli, ["generate", "--days", "2", "-o", "-"])
    assert done.exit_code == 0
    assert done.stdout_bytes.startswith(b"100,NEM12,")
    assert done.stdout_bytes.endswith(b"900\r\n")


def _stops_reading_early(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """``nem2cdr ARGS | head -c 100``: the reader takes a little and closes the pipe."""
    child = subprocess.Popen([NEM2CDR, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.read(100)
    child.stdout.close()
    stderr = child.stderr.read()
    return subprocess.CompletedProcess(args, child.wait(), first, stderr)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["convert", "-q", "--jsonl", "--interval-reads", "FULL", SAMPLE],
        ["convert", "-q", "--whole-file", "--interval-reads", "FULL", SAMPLE],
        ["generate", "--nmis", "3", "-o", "-"],
        ["generate", "--nmis", "3", "--zip", "-o", "-"],
    ],
    ids=" ".join,
)
def test_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    done = _stops_reading_early(args)
    assert len(done.stdout) == 100
    assert (done.returncode, done.stderr) == (0, b"")


def _into_a_closed_pipe(command: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``COMMAND | true``: the reader has gone before the first byte is written."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            command, stdout=write, stderr=subprocess.PIPE, cwd=cwd, timeout=60, check=False
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "command",
    [
        [NEM2CDR, "validate", "-q", SAMPLE],
        [NEM2CDR, "experiments", "--only", "00", "--codecs", "gzip:1", SAMPLE],
        [MMTLITE, "--home", "mmt", "status"],
        [MMTLITE, "--home", "mmt", "log"],
        [MMTLITE, "--home", "mmt", "report"],
    ],
    ids=["nem2cdr validate", "nem2cdr experiments", "mmtlite status", "mmtlite log", "report"],
)
def test_a_table_into_a_closed_pipe_ends_quietly(command: list[str], tmp_path: Path) -> None:
    """The tables go through rich, which would end the process with exit 1 on its own."""
    if command[0] == MMTLITE:  # an environment to read: reading one never creates it
        subprocess.run([MMTLITE, "--home", "mmt", "init"], cwd=tmp_path, check=True)
    done = _into_a_closed_pipe(command, tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")


@pytest.mark.slow
def test_ctrl_c_exits_130_with_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    """Interrupted while converting a generated file to a path: exit 130, one line on stderr,
    no output file and no temporary. The input comes through a pipe that is kept open, so the
    signal is sure to arrive while the file is being read and converted."""
    data = tmp_path / "generated.csv"
    nem2cdr.generate(data, nmis=2, days=60, interval=5)
    out = tmp_path / "out" / "usage.json"
    child = subprocess.Popen(
        [NEM2CDR, "convert", "-q", "--interval-reads", "FULL", "-", "-o", str(out)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stderr is not None
    # More than a pipe holds: when this returns, the child is reading and converting.
    child.stdin.write(data.read_bytes())
    child.stdin.flush()
    time.sleep(0.3)
    assert child.poll() is None, "the convert ended before it could be interrupted"
    child.send_signal(signal.SIGINT)
    stderr = child.stderr.read()
    assert child.wait(timeout=30) == INTERRUPTED
    child.stdin.close()
    assert stderr.decode().splitlines() == ["nem2cdr: interrupted"]
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["generated.csv"] + (
        ["out"] if out.parent.exists() else []
    )
