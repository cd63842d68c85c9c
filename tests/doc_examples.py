"""The documentation's examples, found, run and compared (used by ``test_docs.py``).

A page's ```` ```console ```` blocks hold ``$ command`` lines, each followed by the output it
prints (stdout and stderr as a terminal shows them). A last output line ``[exit N]`` says the
command exits N (0 when absent). In expected output, ``...`` or ``…`` inside a line matches any
text within that line, and a line that is only ``...`` matches any number of whole lines. What
varies from run to run (stamps, times of day, durations, versions, the working folder) is masked
on both sides before comparing. ```` ```python ```` blocks run in one namespace per page; a block
right after the line ``<!-- pending: API being built in issue 12 -->`` is skipped. Other blocks
(``sh``, plain) are for reading only.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PENDING = "<!-- pending: API being built in issue 12 -->"
# What the examples may read, linked into each page's working folder at the same relative path.
SHARED = ["samples", "tests/data", "benchmarks"]  # read-only inputs the pages name

_FENCE = re.compile(r"^```(\w*)\s*$")
_EXIT = re.compile(r"^\[exit (\d+)\]$")
_ELLIPSIS = re.compile(r"\.\.\.|…")
_MASKS = [
    # ISO date-times ("now" in logs, histories, reports), before the bare stamps they contain.
    # A table cell may cut one short ("2026-11-22T11…").
    (
        re.compile(r"\d{4}-\d\d-\d\dT(?:\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?|[\d:]*…)"),
        "<TIME>",
    ),
    (re.compile(r"(?<!\d)20\d{12}(?!\d)"), "<STAMP>"),  # YYYYMMDDHHMMSS in names and headers
    (re.compile(r"\b\d+(?:\.\d+)? ?(?:ms|s)\b"), "<DURATION>"),
    (re.compile(r"version \d+\.\d+\.\d+\S*"), "version <VERSION>"),
]


@dataclass
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    kind: str  # "console" or "python"
    text: str
    pending: bool = False

    @property
    def id(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"


@dataclass
class Step:
    command: str
    expected: str
    exit_code: int = 0


@dataclass
class Outcome:
    """What running a block found: ``None`` when it did what the page says."""

    failure: str | None = None
    skipped: str | None = None


def blocks(page: Path) -> list[Block]:
    """The console and python blocks of a page, in order."""
    found: list[Block] = []
    lines = page.read_text("utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        start, kind = index, match.group(1)
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        index += 1
        if kind in ("console", "python"):
            before = next((line for line in reversed(lines[:start]) if line.strip()), "")
            pending = kind == "python" and before.strip() == PENDING
            found.append(Block(page, start + 1, kind, "\n".join(body) + "\n", pending))
    return found


def steps(block: Block) -> list[Step]:
    """A console block's commands, each with its expected output and exit code."""
    found: list[Step] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            found.append(Step(line[2:], ""))
        elif not found:
            raise ValueError(f"{block.id}: output before the first '$ ' command")
        else:
            found[-1].expected += line + "\n"
    for step in found:
        *rest, last = step.expected.splitlines() or [""]
        code = _EXIT.match(last)
        if code:
            step.exit_code = int(code.group(1))
            step.expected = "".join(line + "\n" for line in rest)
    return found


def mask(text: str, folder: Path) -> str:
    text = text.replace(str(folder), "<TMP>").replace(str(folder.resolve()), "<TMP>")
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    lines = [line.rstrip() for line in text.splitlines()]
    return "".join(line + "\n" for line in lines)


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is ``expected`` with its ellipses filled in (both masked)."""
    parts: list[str] = []
    for line in expected.splitlines():
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = _ELLIPSIS.split(line)
            parts.append("[^\n]*?".join(re.escape(piece) for piece in pieces) + r"\n")
    return re.fullmatch("".join(parts), actual) is not None


def environment(folder: Path) -> dict[str, str]:
    """The console scripts of this interpreter first; plain, narrow, UTC output; nothing local."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CI", "MMTLITE_HOME", "FORCE_COLOR", "COLUMNS", "LINES")
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        COLUMNS="100",
        TERM="dumb",
        NO_COLOR="1",
        TZ="UTC",
        LC_ALL="C.UTF-8",
        PYTHONUNBUFFERED="1",  # stdout and stderr interleave as on a terminal
        PYTHONIOENCODING="utf-8",
        HOME=str(folder),
    )
    return env


def prepare(folder: Path) -> None:
    for shared in SHARED:
        link = folder / shared
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT / shared, target_is_directory=True)


def run_console(block: Block, folder: Path) -> Outcome:
    """Every step runs (a later one may still pass); the failure lists each one that did not."""
    failures: list[str] = []
    for step in steps(block):
        done = _run(step, folder)
        expected, actual = mask(step.expected, folder), mask(done.stdout, folder)
        if done.returncode != step.exit_code or not matches(expected, actual):
            failures.append(_explain(block, step, expected, actual, done.returncode))
    return Outcome(failure="\n\n".join(failures) if failures else None)


def _run(step: Step, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", step.command],
        cwd=folder,
        env=environment(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=300,
    )


def _explain(block: Block, step: Step, expected: str, actual: str, code: int) -> str:
    diff = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "expected (page)", "actual (run)", lineterm=""
    )
    return (
        f"{block.id}: $ {step.command}\n"
        f"exit code: expected {step.exit_code}, actual {code}\n"
        "output (masked; '...' and '…' in the expected lines match any text):\n"
        + "\n".join(diff)
        + "\n--- actual output, to paste into the page:\n"
        + actual
        + (f"[exit {code}]\n" if code else "")
    )


def run_python(block: Block, folder: Path, namespace: dict[str, object]) -> Outcome:
    if block.pending:
        try:
            compile(block.text, block.id, "exec")  # not run yet, but it must be Python
        except SyntaxError as exc:
            return Outcome(failure=f"{block.id}: SyntaxError: {exc}")
        return Outcome(skipped=f"{block.id}: pending: API being built in issue 12")
    previous = Path.cwd()
    os.chdir(folder)
    try:
        exec(compile(block.text, block.id, "exec"), namespace)
    except Exception as exc:  # the example failed: say where and how
        return Outcome(failure=f"{block.id}: {type(exc).__name__}: {exc}")
    finally:
        os.chdir(previous)
    return Outcome()


def run_page(page: Path, folder: Path) -> Iterator[tuple[Block, Outcome]]:
    """Every block of ``page`` in order, in ``folder``. A failed block does not stop the rest:
    the integrator sees every example that changed at once (a later one may fail only
    because of an earlier one; the first failure on a page is the one to read first)."""
    prepare(folder)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for block in blocks(page):
        if block.kind == "console":
            yield block, run_console(block, folder)
        else:
            yield block, run_python(block, folder, namespace)


def fix_page(page: Path, folder: Path) -> int:
    """Rewrite the expected output of every console step of ``page`` that fails with what it
    printed (its ellipses are lost: put them back where the output varies). Returns how many
    steps changed."""
    prepare(folder)
    lines = page.read_text("utf-8").splitlines(keepends=True)
    changed = 0
    # From the last block up, so the line numbers of the blocks above stay right.
    replacements: list[tuple[int, int, str]] = []
    for block in blocks(page):
        if block.kind != "console":
            continue
        body = ""
        for step in steps(block):
            done = _run(step, folder)
            expected, actual = mask(step.expected, folder), mask(done.stdout, folder)
            if done.returncode == step.exit_code and matches(expected, actual):
                body += f"$ {step.command}\n{step.expected}"
                body += f"[exit {step.exit_code}]\n" if step.exit_code else ""
            else:
                changed += 1
                body += f"$ {step.command}\n" + "".join(
                    line.rstrip() + "\n" for line in done.stdout.splitlines()
                )
                body += f"[exit {done.returncode}]\n" if done.returncode else ""
        end = block.line + len(block.text.splitlines())
        replacements.append((block.line, end, body))
    for start, end, body in reversed(replacements):
        lines[start:end] = [body]
    page.write_text("".join(lines), "utf-8")
    return changed


if __name__ == "__main__":
    import tempfile

    for name in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as scratch:
            print(f"{name}: {fix_page(Path(name).resolve(), Path(scratch))} steps rewritten")
