"""A real ``nem2cdr serve`` process on a free loopback port, for the server's tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

NEM2CDR = Path(sys.executable).parent / "nem2cdr"
HOLDER = "/cds-au/v1/energy/electricity/servicepoints"
SECONDARY = "/cds-au/v1/secondary/energy/electricity/servicepoints"
STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@contextmanager
def serving(paths: list[Path], store: Path, *options: str) -> Iterator[Server]:
    """``nem2cdr serve PATHS --store STORE OPTIONS``, ready to answer, stopped as Ctrl-C would."""
    port = free_port()
    log = store.with_suffix(".log")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                NEM2CDR,
                "serve",
                *map(str, paths),
                "--store",
                str(store),
                "--port",
                str(port),
                *options,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own, for Ctrl-C to reach all of it
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_listening(server)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):  # ended already, workers and all
            os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: every process
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_listening(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server ended: {server.log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), 1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen in time: {server.log.read_text()}")
