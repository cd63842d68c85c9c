"""A check on the whole run: every catalogued nem2cdr code is produced by some test, and no
test produces a code the catalogue (``nem2cdr.diagnostics.CODES``) lacks.

How: at configure time, in the controller and in each xdist worker, the two places every code
is born are wrapped to record it: ``Diagnostics.add`` (the reader, validate and convert) and
``checking._problem`` (check). Workers hand their sets to the controller when they finish.
At the end of a run of the whole suite (pytest with no paths, ``-k``, ``-m`` or
``--deselect``, and otherwise green), the union is compared with ``CODES`` both ways; a
difference fails the run and names the codes. A partial run proves nothing, so it is not
checked. Codes born only in a subprocess (the CLI run as a real process) are not seen: each
code needs an in-process test, which is where its behaviour is pinned anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nem2cdr import checking
from nem2cdr.diagnostics import CODES, Diagnostics
from nem2cdr.model import Diagnostic

_KEY = "nem2cdr_codes"
_PRODUCED = pytest.StashKey[set[str]]()
_RESTORE = pytest.StashKey[Callable[[], None]]()


def pytest_configure(config: pytest.Config) -> None:
    produced: set[str] = set()
    config.stash[_PRODUCED] = produced
    add, problem = Diagnostics.add, checking._problem

    def recording_add(
        self: Diagnostics, code: str, file: str, line: int | None, message: str
    ) -> None:
        produced.add(code)
        add(self, code, file, line, message)

    def recording_problem(path: str, code: str, message: str) -> Diagnostic:
        produced.add(code)
        return problem(path, code, message)

    def restore() -> None:
        Diagnostics.add = add  # type: ignore[method-assign]
        checking._problem = problem

    Diagnostics.add = recording_add  # type: ignore[method-assign]
    checking._problem = recording_problem
    config.stash[_RESTORE] = restore


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[_RESTORE]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist, in the controller: a worker is done; take the codes it saw."""
    node.config.stash[_PRODUCED].update(node.workeroutput.get(_KEY, ()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    produced = config.stash[_PRODUCED]
    if hasattr(config, "workeroutput"):  # an xdist worker: report to the controller
        config.workeroutput[_KEY] = sorted(produced)
        return
    if exitstatus != 0 or not _whole_suite(config):
        return
    missing = sorted(set(CODES) - produced)
    unknown = sorted(produced - set(CODES))
    if not (missing or unknown):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    lines = []
    if missing:
        lines.append(f"catalogued codes no test produces: {', '.join(missing)}")
    if unknown:
        lines.append(f"codes produced that nem2cdr.diagnostics.CODES lacks: {', '.join(unknown)}")
    for line in lines:
        if reporter is not None:
            reporter.write_line(f"code catalogue: {line}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _whole_suite(config: pytest.Config) -> bool:
    option = config.option
    return (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not option.keyword
        and not option.markexpr
        and not option.deselect
        and not getattr(option, "lf", False)
        and not option.collectonly
    )
