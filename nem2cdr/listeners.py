"""Several server processes on one address, the kernel sharing the connections among them.

uvicorn's own ``workers`` has every process accept from one shared socket, and asyncio accepts
every waiting connection at once: a handful of keep-alive clients (a load generator, a
gateway's connection pool) all land on the first process to wake, and the others idle. Measured
with wrk on two workers and two cores: FULL + gzip held 12 responses a second, one core's worth.
Here each process listens on a socket of its own bound with ``SO_REUSEPORT`` (Linux, same
user), and the kernel spreads new connections across them by their address hash.

The parent only watches: a worker that ends while the server runs is started again, unless it
ended within ``SETTLING_SECONDS`` of starting (a worker that cannot start would only start
again and again: the server stops, exit 1). SIGINT and SIGTERM stop every worker gracefully.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

SETTLING_SECONDS = 5.0
STOP_SECONDS = 30.0  # a worker's graceful stop, before it is killed
BACKLOG = 2048  # uvicorn's default


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` that other processes of this user may share."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, config: dict[str, Any]) -> None:
    """(In a worker process.) Serve on a socket of its own until told to stop."""
    import uvicorn

    sock = listen(host, port)
    uvicorn.Server(uvicorn.Config(**config)).run(sockets=[sock])


def supervise(host: str, port: int, workers: int, config: dict[str, Any]) -> None:
    """Run ``workers`` processes serving ``uvicorn.Config(**config)`` on ``host:port`` until
    SIGINT or SIGTERM; ``SystemExit(1)`` when a worker cannot start."""
    # spawn: each worker starts clean (no event loop, no SQLite handle of this process), as
    # uvicorn's own workers do; the options reach them in the environment, which it inherits.
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(host, port, config), daemon=False)
        process.start()
        return process, time.monotonic()

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    running = [start() for _ in range(workers)]
    failed: str | None = None
    try:
        while not stopping and failed is None:
            wait([process.sentinel for process, _ in running], timeout=0.5)
            for at, (process, started) in enumerate(running):
                if stopping or process.is_alive():
                    continue
                if time.monotonic() - started < SETTLING_SECONDS:
                    failed = f"a server process ended as it started (exit {process.exitcode})"
                    break
                print(
                    f"nem2cdr serve: a server process ended (exit {process.exitcode}): "
                    "starting another",
                    file=sys.stderr,
                    flush=True,
                )
                running[at] = start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process, _ in running:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn finishes the requests it has
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in running:
            process.join(max(deadline - time.monotonic(), 0))
            if process.is_alive():
                process.kill()
                process.join()
    if failed is not None:
        print(f"nem2cdr serve: {failed}", file=sys.stderr, flush=True)
        raise SystemExit(1)
