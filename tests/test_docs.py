"""Every console and python example of README.md and docs/*.md does what the page says.

One test per block (``page:line``). A page's blocks run in order in one fresh folder, so each
test looks up its block in the page's run (made once per process, on first need). The convention
is in ``tests/doc_examples.py`` and docs/development.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.doc_examples import (
    PAGES,
    PENDING,
    Block,
    Outcome,
    blocks,
    mask,
    matches,
    run_console,
    run_page,
    run_python,
    steps,
)

# Pages whose examples together take more than a few seconds (whole mmtlite cycles, experiments).
SLOW_PAGES = {"docs/mmtlite.md", "docs/experiments.md"}

BLOCKS = [block for page in PAGES for block in blocks(page)]


# Each page runs once per test process, on the first test that needs it (pytest keeps the folders
# of the last few sessions only).
_RUNS: dict[Path, dict[int, Outcome]] = {}


def _page_outcomes(page: Path, factory: pytest.TempPathFactory) -> dict[int, Outcome]:
    if page not in _RUNS:
        folder = factory.mktemp("docs")
        _RUNS[page] = {block.line: outcome for block, outcome in run_page(page, folder)}
    return _RUNS[page]


def _param(block: Block) -> object:
    slow = block.id.split(":")[0] in SLOW_PAGES
    return pytest.param(block, id=block.id, marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("block", [_param(block) for block in BLOCKS])
def test_example(block: Block, tmp_path_factory: pytest.TempPathFactory) -> None:
    outcome = _page_outcomes(block.page, tmp_path_factory)[block.line]
    if outcome.skipped is not None:
        pytest.skip(outcome.skipped)
    if outcome.failure is not None:
        pytest.fail(outcome.failure, pytrace=False)


def test_every_page_has_examples_and_is_linked() -> None:
    index = (PAGES[0].parent / "docs" / "index.md").read_text("utf-8")
    for page in PAGES[1:]:
        assert page.name == "index.md" or f"({page.name})" in index, f"{page.name} not in index"
    assert sum(block.kind == "console" for block in BLOCKS) >= 10


def test_no_page_cites_outside_the_repository() -> None:
    for page in PAGES:
        text = page.read_text("utf-8")
        assert "../shared" not in text and "/work/" not in text, page


def test_console_blocks_parse_into_commands() -> None:
    for block in BLOCKS:
        if block.kind == "console":
            assert steps(block), f"{block.id}: a console block without a '$ ' command"


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, "utf-8")
    return page


def test_an_ellipsis_matches_within_a_line_and_a_lone_one_matches_lines() -> None:
    assert matches("a … d\n", "a b c d\n")
    assert matches("a ... d\n", "a  d\n")
    assert not matches("a … d\n", "a b\nc d\n")  # not across lines
    assert matches("first\n...\nlast\n", "first\nx\ny\nlast\n")
    assert matches("first\n...\nlast\n", "first\nlast\n")
    assert not matches("first\nlast\n", "first\nmiddle\nlast\n")


def test_masks_hide_what_varies_on_both_sides(tmp_path: Path) -> None:
    text = (
        f"{tmp_path}/x MMT_BUILD_20261122113358.csv at 2026-11-22T11:33:58Z, "
        "cut 2026-11-22T11… in 0.25 s or 12 ms, version 1.2.3  \n"
    )
    assert mask(text, tmp_path) == (
        "<TMP>/x MMT_BUILD_<STAMP>.csv at <TIME>, cut <TIME> in <DURATION> or <DURATION>, "
        "version <VERSION>\n"
    )


def test_a_console_block_reads_commands_outputs_and_exit_codes(tmp_path: Path) -> None:
    page = _page(tmp_path, "```console\n$ echo hi\nhi\n$ false\n[exit 1]\n```\n")
    [block] = blocks(page)
    assert [(s.command, s.expected, s.exit_code) for s in steps(block)] == [
        ("echo hi", "hi\n", 0),
        ("false", "", 1),
    ]


def test_a_failing_example_shows_a_diff_and_the_output_to_paste(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    page = _page(tmp_path, "```console\n$ printf 'one\\ntwo\\n'\none\nthree\n```\n")
    [block] = blocks(page)
    failure = run_console(block, folder).failure
    assert failure is not None
    assert "page.md:1: $ printf" in failure
    assert "-three" in failure and "+two" in failure
    assert failure.endswith("one\ntwo\n")


def test_a_wrong_exit_code_fails_even_with_the_right_output(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    [block] = blocks(_page(tmp_path, "```console\n$ echo x; exit 3\nx\n```\n"))
    failure = run_console(block, folder).failure
    assert failure is not None and "expected 0, actual 3" in failure


def test_only_the_block_after_the_pending_marker_is_skipped(tmp_path: Path) -> None:
    page = _page(
        tmp_path, f"{PENDING}\n```python\nraise SystemExit\n```\n\n```python\nx = 1\n```\n"
    )
    pending, ready = blocks(page)
    assert pending.pending and not ready.pending
    namespace: dict[str, object] = {}
    assert run_python(pending, tmp_path, namespace).skipped == (
        "page.md:2: pending: API being built in issue 12"
    )
    assert run_python(ready, tmp_path, namespace) == Outcome()
    assert namespace["x"] == 1


def test_a_pending_block_must_still_be_python(tmp_path: Path) -> None:
    [block] = blocks(_page(tmp_path, f"{PENDING}\n```python\nprint(\n```\n"))
    failure = run_python(block, tmp_path, {}).failure
    assert failure is not None and failure.startswith("page.md:2: SyntaxError")
