"""Several server processes on one address, the kernel sharing the connections among them.

uvicorn's own ``workers`` has every process accept from one shared socket, and asyncio accepts
every waiting connection at once: a handful of keep-alive clients (a load generator, a
gateway's connection pool) all land on the first process to wake, and the others idle. Measured
with wrk on two workers and two cores: FULL + gzip held 12 responses a second, one core's worth.
Here each process serves a socket of its own in one ``SO_REUSEPORT`` group (Linux, same user),
and the kernel spreads new connections across them by their address hash.

The parent opens the sockets, so that the address is this server's alone (another server's
``SO_REUSEPORT`` sockets would otherwise join the group and answer from another store), and
then only watches: a worker that ends while the server runs is started again on its socket,
unless it ended within ``SETTLING_SECONDS`` of starting (a worker that cannot start would only
start again and again: the server stops, exit 1). SIGINT and SIGTERM stop every worker
gracefully; a worker whose parent is killed outright stops itself.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing import resource_tracker
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

SETTLING_SECONDS = 5.0
STOP_SECONDS = 30.0  # a worker's graceful stop, before it is killed
BACKLOG = 2048  # uvicorn's default


def family(host: str) -> socket.AddressFamily:
    """The address family a host is listened on in, as uvicorn decides it: IPv6 for an
    address with a colon, else IPv4 (``localhost`` too)."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listen(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets listening on ``host:port`` as one ``SO_REUSEPORT`` group; ``OSError``
    when anything else listens there, another server's group too: the first socket binds
    without the option, which conflicts with every listener, and joins the group after."""
    kind_of = family(host)
    _, kind, proto, _, address = socket.getaddrinfo(host, port, kind_of, socket.SOCK_STREAM)[0]
    sockets: list[socket.socket] = []
    try:
        for at in range(count):
            sock = socket.socket(kind_of, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if at:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.listen(BACKLOG)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _worker(sock: socket.socket, config: dict[str, Any]) -> None:
    """(In a worker process.) Serve on its socket until told to stop."""
    import uvicorn

    # Ctrl-C reaches every process of the terminal's group. uvicorn stops on it, then raises
    # it again once stopped, which would end the worker in a KeyboardInterrupt traceback;
    # ignored (from its start: ``_ignoring_sigint``), the worker simply ends (the parent
    # stops the others with SIGTERM).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_stop_with_parent, daemon=True).start()
    uvicorn.Server(uvicorn.Config(**config)).run(sockets=[sock])


def _stop_with_parent() -> None:
    """(A worker's thread.) A parent killed outright (SIGKILL) cannot stop its workers, which
    would serve on alone and hold the port: each stops itself as the parent would stop it."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        wait([parent.sentinel])  # readable when the parent has ended
        os.kill(os.getpid(), signal.SIGTERM)


@contextmanager
def _ignoring_sigint(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Processes started within ignore SIGINT from their first instruction (an ignored signal
    stays ignored across exec, and Python leaves it so): a Ctrl-C while a worker imports would
    end it in a KeyboardInterrupt traceback. This process still gets one sent meanwhile: it is
    blocked, so it waits, and ``handler`` takes it once unblocked."""
    # Started now if at all: starting it within would unblock SIGINT (it blocks and unblocks
    # it around its own start), and a Ctrl-C then, ignored, would never stop this process.
    resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    waiting = signal.SIGINT in signal.sigpending()  # ignoring it would drop it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        if waiting:
            handler(signal.SIGINT, None)


def supervise(host: str, port: int, workers: int, config: dict[str, Any]) -> None:
    """Run ``workers`` processes serving ``uvicorn.Config(**config)`` on ``host:port`` until
    SIGINT or SIGTERM; ``SystemExit(1)`` when the address is taken or a worker cannot start."""
    try:
        sockets = listen(host, port, workers)
    except OSError as exc:
        print(
            f"nem2cdr serve: cannot listen on {host}:{port}: {exc.strerror or exc}",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(1) from None
    # spawn: each worker starts clean (no event loop, no SQLite handle of this process), as
    # uvicorn's own workers do; the options reach them in the environment, which it inherits.
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start(at: int) -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(sockets[at], config), daemon=False)
        with _ignoring_sigint(stop):
            process.start()
        return process, time.monotonic()

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    running = [start(at) for at in range(workers)]
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
                running[at] = start(at)  # on the same socket: what waits on it is answered
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
        for sock in sockets:
            sock.close()
    if failed is not None:
        print(f"nem2cdr serve: {failed}", file=sys.stderr, flush=True)
        raise SystemExit(1)
