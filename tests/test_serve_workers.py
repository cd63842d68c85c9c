"""``nem2cdr serve --workers N``: every process answers, and one that dies is replaced."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from nem2cdr.generator import generate
from nem2cdr.listeners import SETTLING_SECONDS
from tests.serve_helpers import HOLDER, NEM2CDR, Server, free_port, serving

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


def gone(pids: list[int]) -> bool:
    """Every one of ``pids`` has ended (a zombie has: only its exit status is left)."""
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            return False
    return True


def ended_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not gone(pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_ctrl_c_stops_every_worker_quietly(tmp_path: Path) -> None:
    """Ctrl-C signals the whole process group: the workers as well as the parent."""
    with serving([SAMPLE], tmp_path / "store.sqlite", *ARGUMENTS) as server:
        workers = started(server, 2)
    assert server.process.returncode == 0
    assert ended_within(workers, 5)
    assert "Traceback" not in server.log.read_text()


def test_sigterm_to_the_parent_alone_stops_every_worker(tmp_path: Path) -> None:
    with serving([SAMPLE], tmp_path / "store.sqlite", *ARGUMENTS) as server:
        workers = started(server, 2)
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=60)
        assert ended_within(workers, 5)
    assert server.process.returncode == 0
    assert "Traceback" not in server.log.read_text()


def test_workers_of_a_parent_killed_outright_stop_too(tmp_path: Path) -> None:
    """SIGKILL gives the parent no chance to stop them: they must not serve on alone."""
    with serving([SAMPLE], tmp_path / "store.sqlite", *ARGUMENTS) as server:
        workers = started(server, 2)
        server.process.kill()
        server.process.wait(timeout=60)
        assert ended_within(workers, 30), "the workers serve on without their parent"


def test_a_worker_that_cannot_open_the_store_says_so_in_one_line(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    with serving([SAMPLE], store, *ARGUMENTS) as server:
        first = started(server, 2)
        time.sleep(SETTLING_SECONDS)
        store.unlink()  # the running workers keep their open store; a new one cannot
        os.kill(first[0], signal.SIGKILL)
        server.process.wait(timeout=60)
    assert server.process.returncode == 1
    log = server.log.read_text()
    assert f"nem2cdr serve: {store}: no such store\n" in log
    assert "Traceback" not in log


def test_a_second_server_is_refused_the_port_of_one_still_reading_its_files(
    tmp_path: Path,
) -> None:
    """The first server checked the port before reading its files, the second took it
    meanwhile: the first must not join the second's sockets (SO_REUSEPORT would let it) and
    answer on the same port from another store."""
    large = tmp_path / "large.csv"
    generate(large, nmis=40, days=365, interval=5)  # a second or two to read
    port = free_port()
    log = tmp_path / "first.log"
    first = launch([large, tmp_path / "first.sqlite", "--port", str(port), "--workers", "2"], log)
    try:
        wait_for("reading", log, first)
        first.send_signal(signal.SIGSTOP)  # past its check of the port, reading its file
        second_store = tmp_path / "second.sqlite"
        second = launch(
            [SAMPLE, second_store, "--port", str(port), "--workers", "2"], tmp_path / "second.log"
        )
        try:
            deadline = time.monotonic() + 60
            while not listening(port):
                assert time.monotonic() < deadline and second.poll() is None
                time.sleep(0.05)
            first.send_signal(signal.SIGCONT)
            assert first.wait(timeout=120) == 1
        finally:
            interrupt(second)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    text = log.read_text()
    assert f"nem2cdr serve: cannot listen on 127.0.0.1:{port}: Address already in use" in text
    assert "Traceback" not in text


def interrupt(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a terminal sends it; the whole group killed if it does not end."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # not left serving after a failed test
        process.wait()
        raise


def launch(arguments: list[str | Path], log: Path) -> subprocess.Popen[bytes]:
    """``nem2cdr serve SOURCE --store STORE OPTIONS`` in a process group of its own (a
    terminal's Ctrl-C reaches all of it), its output in ``log``."""
    source, store, *options = map(str, arguments)
    with open(log, "wb") as out:
        return subprocess.Popen(
            [NEM2CDR, "serve", source, "--store", store, *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(text: str, log: Path, process: subprocess.Popen[bytes]) -> str:
    """The log once it holds ``text``."""
    deadline = time.monotonic() + 60
    while text not in (written := log.read_text()):
        assert time.monotonic() < deadline and process.poll() is None, written
        time.sleep(0.002)
    return written


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 1):
            return True
    except OSError:
        return False


def test_the_address_printed_for_an_ipv6_host_is_a_url_that_answers(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    options = ["--host", "::1", "--port", str(port), "--workers", "2", "--today", "2024-02-09"]
    server = launch([SAMPLE, tmp_path / "store.sqlite", *options], log)
    try:
        text = wait_for("serving on ", log, server)
        url = text.split("serving on ", 1)[1].split()[0]
        assert url == f"http://[::1]:{port}/cds-au/v1"
        time.sleep(3.0)  # the workers listening
        answer = httpx.get(f"{url}/energy/electricity/servicepoints/usage", headers={"x-v": "1"})
        assert answer.status_code == 200
    finally:
        interrupt(server)


@pytest.mark.parametrize("delay", [0.02, 0.05, 0.1, 0.2, 0.3])
def test_ctrl_c_while_the_workers_start_is_quiet_too(tmp_path: Path, delay: float) -> None:
    """The workers import for a few hundred ms after the parent's last line: a Ctrl-C then
    must not end one of them in a KeyboardInterrupt traceback."""
    store = tmp_path / "store.sqlite"
    log = tmp_path / "serve.log"
    server = launch([SAMPLE, store, "--port", str(free_port()), "--workers", "2"], log)
    try:
        wait_for("serving on ", log, server)
        time.sleep(delay)
    finally:
        interrupt(server)
    time.sleep(0.5)  # the workers' last words
    assert "Traceback" not in log.read_text()
    # 130: the Ctrl-C came before the workers were started ("nem2cdr: interrupted").
    assert server.returncode in (0, 130)
