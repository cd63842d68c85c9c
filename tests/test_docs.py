"""Every console and python example of README.md and docs/*.md does what the page says.

One test per block (``page:line``). A page's blocks run in order in one fresh folder, so each
test looks up its block in the page's run (made once per process, on first need). The convention
is in ``tests/doc_examples.py`` and docs/development.md.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest

from tests.doc_examples import PAGES, Block, Outcome, blocks, run_page, steps

# Pages whose examples together take more than a few seconds (whole mmtlite cycles, experiments).
SLOW_PAGES = {"docs/mmtlite.md", "docs/experiments.md"}

BLOCKS = [block for page in PAGES for block in blocks(page)]


@cache
def _page_outcomes(page: Path) -> dict[int, Outcome]:
    folder = Path(tempfile.mkdtemp(prefix="nem2cdr-docs-"))
    return {block.line: outcome for block, outcome in run_page(page, folder)}


def _param(block: Block) -> object:
    slow = block.id.split(":")[0] in SLOW_PAGES
    return pytest.param(block, id=block.id, marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("block", [_param(block) for block in BLOCKS])
def test_example(block: Block) -> None:
    outcome = _page_outcomes(block.page)[block.line]
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
