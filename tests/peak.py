"""A command's peak memory, measured where nothing else is counted.

A child's ``ru_maxrss`` starts from its parent's RSS at the fork, and ``RUSAGE_CHILDREN`` is the
largest of every child a process has waited for: measured from a test worker, both would count
the worker (hundreds of MB after a Spark or hypothesis test). So the command runs as the only
child of a small fresh Python, which reports its peak.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import NamedTuple

_LAUNCHER = """\
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
json.dump({"code": done.returncode, "kib": peak, "out": done.stdout.decode("utf-8", "replace"),
           "err": done.stderr.decode("utf-8", "replace")}, sys.stdout)
"""


class Peak(NamedTuple):
    returncode: int
    rss: int  # bytes (Linux reports kilobytes)
    stdout: str
    stderr: str


def peak_rss(argv: Sequence[str]) -> Peak:
    """Run ``argv`` alone under a fresh launcher: its exit code, peak RSS and output."""
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *argv], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    return Peak(found["code"], found["kib"] * 1024, found["out"], found["err"])
