"""Running a command as a fresh process and measuring it: wall time and peak RSS."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import NamedTuple


class Measured(NamedTuple):
    seconds: float  # wall time, process start to exit
    peak_rss_mb: float  # the child's ru_maxrss (Linux reports kibibytes), in MiB
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system time of the command (on a busy machine, fairer)


# Measuring from this process would be wrong: a child's ru_maxrss starts at its parent's RSS
# (fork copies the page-table counts and exec keeps the high-water mark), so after this process
# has read a big file every child would look that big. A small fresh launcher spawns the command
# instead and reports the command's own wait4 figures.
_LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "returncode": os.waitstatus_to_exitcode(status)}, out)
"""


def run_measured(argv: Sequence[str]) -> Measured:
    """Run ``argv`` to completion in a fresh process: its wall time and its own peak RSS."""
    with tempfile.TemporaryDirectory() as folder:
        result_path = os.path.join(folder, "result.json")
        errors_path = os.path.join(folder, "stderr")
        # stderr goes to a file so a chatty child cannot block on a full pipe.
        with open(errors_path, "wb") as errors:
            launched = subprocess.run(
                [sys.executable, "-c", _LAUNCHER, result_path, *argv],
                stdout=subprocess.PIPE,
                stderr=errors,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        with open(errors_path, "rb") as errors:
            err = errors.read().decode("utf-8", "replace")
        if launched.returncode != 0 or not os.path.exists(result_path):
            return Measured(0.0, 0.0, launched.returncode or 1, "", err)
        with open(result_path) as result_file:
            result = json.load(result_file)
    return Measured(
        result["seconds"],
        result["maxrss_kib"] / 1024,  # Linux reports KiB
        result["returncode"],
        launched.stdout.decode("utf-8", "replace"),
        err,
        result["cpu_seconds"],
    )


def python_code(code: str, *args: str) -> list[str]:
    """The argv that runs ``code`` in this interpreter (the virtualenv the project is in)."""
    return [sys.executable, "-c", code, *args]


def console_script(name: str) -> str | None:
    """The command ``name`` of this interpreter's environment (else the one on PATH)."""
    here = os.path.dirname(sys.executable)
    return shutil.which(name, path=here) or shutil.which(name)


def nem2cdr_executable() -> str | None:
    return console_script("nem2cdr")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def code_version() -> str:
    """Which code was measured: the commit, and whether the package folders had local changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "nem2cdr", "cli", "experiments", "mmtlite"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    folders = sorted({line[3:].split("/")[0] + "/" for line in dirty if line.strip()})
    return f"commit {commit}" + (
        f" + uncommitted changes in {' '.join(folders)}" if folders else ""
    )
