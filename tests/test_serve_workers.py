"""``nem2cdr serve --workers N``: every process answers, and one that dies is replaced."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nem2cdr.listeners import SETTLING_SECONDS
from tests.serve_helpers import HOLDER, Server, serving

pytestmark = pytest.mark.slow  # starts server processes

SAMPLE = Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"
ARGUMENTS = ("--today", "2024-02-09", "--workers", "2", "--cache-mb", "0")
CONNECTIONS = 16  # all on one worker by chance: 2 ** -15
URL = f"{HOLDER}/usage?interval-reads=FULL&page-size=1000&oldest-date=2023-01-01"


def workers_of(server: Server) -> list[int]:
    """The process ids of the server's live workers, from /proc: its children started by
    multiprocessing's spawn (not its resource tracker), not yet ended."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            state, parent = stat.rsplit(")", 1)[1].split()[:2]
            alive = state not in ("Z", "X")
            if int(parent) == server.process.pid and alive and b"spawn_main" in command:
                children.append(int(entry))
    return sorted(children)


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def hammer(server: Server, requests: int) -> set[int]:
    """``CONNECTIONS`` keep-alive clients at once, each ``requests`` requests: the statuses."""

    def one_client(_: int) -> set[int]:
        with server.client(**{"x-v": "1"}) as client:
            return {client.get(URL).status_code for _ in range(requests)}

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        return set().union(*pool.map(one_client, range(CONNECTIONS)))


def started(server: Server, count: int) -> list[int]:
    deadline = time.monotonic() + 60
    while len(found := workers_of(server)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)  # every worker listening, not only the first
    return found


def test_keep_alive_clients_are_shared_among_the_workers(tmp_path: Path) -> None:
    with serving([SAMPLE], tmp_path / "store.sqlite", *ARGUMENTS) as server:
        workers = started(server, 2)
        assert len(workers) == 2
        before = {pid: cpu_ticks(pid) for pid in workers}
        assert hammer(server, 10) == {200}
        used = {pid: cpu_ticks(pid) - before[pid] for pid in workers}
    # 160 full pages: each worker answered a good part of them, not one worker all of them.
    assert min(used.values()) >= 0.2 * max(used.values()), used


def test_a_worker_that_dies_is_replaced_and_the_server_answers(tmp_path: Path) -> None:
    with serving([SAMPLE], tmp_path / "store.sqlite", *ARGUMENTS) as server:
        first = started(server, 2)
        time.sleep(SETTLING_SECONDS)  # past its start: a worker that ran, then died
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (now := workers_of(server)) == first or len(now) < 2:
            assert time.monotonic() < deadline, f"no new worker: {now}"
            time.sleep(0.1)
        assert first[1] in now and first[0] not in now
        time.sleep(2.0)
        assert hammer(server, 2) == {200}
        assert "a server process ended (exit -9): starting another" in server.log.read_text()
    assert server.process.returncode == 0


def test_a_worker_that_ends_as_it_starts_stops_the_server(tmp_path: Path) -> None:
    """Starting it again would only fail again, forever: one line, exit 1."""
    with serving([SAMPLE], tmp_path / "store.sqlite", *ARGUMENTS) as server:
        first = started(server, 2)
        os.kill(first[0], signal.SIGKILL)
        server.process.wait(timeout=60)
    assert server.process.returncode == 1
    log = server.log.read_text()
    assert "nem2cdr serve: a server process ended as it started (exit -9)" in log
    assert "Traceback" not in log
