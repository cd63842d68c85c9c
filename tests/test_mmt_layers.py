"""mmtlite's modules form layers: data flows one way and no module reaches up the flow.

Read from the source with ``ast`` (what the modules say, not what happens to be loaded): every
import of an mmtlite module at module level is an edge of the graph; imports inside functions
(which hid a cycle before) are not allowed at all.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import mmtlite

PACKAGE = Path(mmtlite.__file__).parent
MODULES = sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE)]))

# The flow, bottom up: file format -> database -> loading -> rules -> tranches and outbound
# files -> reports -> the public handle. A module may import only from lower layers.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("categories", "codes", "errors", "findings"),
    ("db", "arguments", "writing"),
    ("lock", "fileformat", "paths", "schema"),
    ("activity", "ledger", "generator"),
    ("rules",),
    ("migrations", "applying", "responses"),
    ("numbering", "outbound"),
    ("loader", "wrap", "set_aside"),
    ("tranches", "simulate"),
    ("reports", "results"),
    ("migration_report",),
    ("report_html",),
    ("api",),
)
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def _tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))


def _imported(node: ast.Import | ast.ImportFrom) -> set[str]:
    """The mmtlite modules an import statement names (``from mmtlite import x`` names x)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.module == "mmtlite":
        names = [f"mmtlite.{alias.name}" for alias in node.names]
    else:
        names = [node.module or ""]
    return {
        name.split(".")[1]
        for name in names
        if name.startswith("mmtlite.") and name.split(".")[1] in MODULES
    }


def _edges(module: str) -> set[str]:
    return {
        name
        for node in _tree(module).body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in _imported(node)
    }


def test_every_module_imports() -> None:
    for module in MODULES:
        importlib.import_module(f"mmtlite.{module}")


def test_every_module_has_a_layer() -> None:
    assert set(MODULES) == set(RANK)


def test_the_import_graph_has_no_cycle() -> None:
    graph = {module: _edges(module) for module in MODULES}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - the failure this test exists for
        raise AssertionError(f"mmtlite imports in a circle: {exc.args[1]}") from exc
    assert set(order) == set(MODULES)


def test_no_module_imports_from_its_own_layer_or_above() -> None:
    upward = [
        f"{module} imports {name}"
        for module in MODULES
        for name in _edges(module)
        if RANK[name] >= RANK[module]
    ]
    assert upward == []


def test_no_mmtlite_import_inside_a_function() -> None:
    hidden = [
        f"{module}:{node.lineno}"
        for module in MODULES
        for top in _tree(module).body
        if not isinstance(top, ast.Import | ast.ImportFrom)
        for node in ast.walk(top)
        if isinstance(node, ast.Import | ast.ImportFrom) and _imported(node)
    ]
    assert hidden == []


def test_the_checks_see_imports() -> None:
    """The graph is really read: the loader's known imports are edges."""
    assert {"migrations", "fileformat", "ledger"} <= _edges("loader")
