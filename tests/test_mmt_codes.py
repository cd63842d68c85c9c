"""The code catalogue (``mmtlite.codes``) and the codes mmtlite reports agree, and tests pin each.

Read from the source with ``ast``, not recorded at run time: a recorder would only see the tests
that happened to run (``-m "not slow"``, ``-k``, one xdist worker's share), so its "every code
was produced" check would fail or pass by accident. The source says it every time:

- every catalogued code is used by a module of the library (besides the catalogue), so some
  path reports it; an entry nothing reports fails here;
- no module of the library writes a code as a literal (outside docstrings): a code reported
  that way could be missing from the catalogue, so it fails here even if it is catalogued;
- every catalogued code is named by an mmtlite test (as a literal, or by its constant), so
  some test makes the library report it and checks that it did.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import mmtlite
from mmtlite import codes

PACKAGE = Path(mmtlite.__file__).parent
TESTS = Path(__file__).parent
CODE = re.compile(r"MMT-[CR][0-9]{3}")
CONSTANTS = {name: value for name, value in vars(codes).items() if name[:2] in ("C_", "R_")}


def _strings(tree: ast.Module) -> Iterator[str]:
    """The string constants of a module that are not docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.value


def _names(tree: ast.Module) -> set[str]:
    """The names a module uses in its code (loads and attributes, not its imports)."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
        node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
    }


def _trees(files: list[Path]) -> dict[str, ast.Module]:
    return {file.name: ast.parse(file.read_text(encoding="utf-8")) for file in files}


LIBRARY = _trees([file for file in PACKAGE.glob("*.py") if file.name != "codes.py"])
MMT_TESTS = _trees([file for file in TESTS.glob("*mmt_*.py") if file.name != Path(__file__).name])


def test_the_catalogue_is_its_constants() -> None:
    assert sorted(codes.CODES) == sorted(CONSTANTS.values())
    assert all(CODE.fullmatch(code) for code in codes.CODES)
    assert all(description for description in codes.CODES.values())


def test_every_catalogued_code_is_reported_by_the_library() -> None:
    used = set().union(*map(_names, LIBRARY.values()))
    assert sorted(name for name in CONSTANTS if name not in used) == []


def test_the_library_reports_no_code_outside_the_catalogue() -> None:
    literal = sorted(
        f"{module}: {text}"
        for module, tree in LIBRARY.items()
        for text in _strings(tree)
        if CODE.search(text)
    )
    assert literal == []


def test_every_catalogued_code_is_pinned_by_a_test() -> None:
    named: set[str] = set()
    for tree in MMT_TESTS.values():
        named |= {match for text in _strings(tree) for match in CODE.findall(text)}
        named |= {CONSTANTS[name] for name in _names(tree) if name in CONSTANTS}
    assert sorted(set(codes.CODES) - named) == []


def test_the_scans_see_codes() -> None:
    """The scans are not vacuous: the loader's refusals and a test's literal are seen."""
    assert "C_BUDGET" in _names(LIBRARY["loader.py"])
    assert "MMT-C013" in set(_strings(MMT_TESTS["test_mmt_fileformat.py"]))
    assert CODE.search('x = "MMT-R009"') and not list(_strings(ast.parse('"""MMT-R009"""')))
