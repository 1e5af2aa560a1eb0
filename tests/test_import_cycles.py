"""The package has no import circles: shared pieces live below the modules that share them.

Imports are read from the source (module level and inside functions alike: a lazy import is still a circle, only a
hidden one); imports under ``if TYPE_CHECKING:`` are for annotations only and are not followed. A circle is a
strongly connected component of more than one module in the graph of imports between ``salcrop_filter`` modules.
"""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "python" / "salcrop_filter"
#: Held to "no circle": the whole package (pipeline<->preview and cli<->cluster were the last at top level).
CHECKED = ("salcrop_filter",)


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping the bodies of ``if TYPE_CHECKING:``."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (``from pkg import mod`` counts as importing ``pkg.mod``)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    packages = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        here = mod if mod in packages else mod.rsplit(".", 1)[0]
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            graph[mod] |= {t for t in targets if t in files and t != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_cycle_finder_finds_a_lazy_circle_and_ignores_annotation_imports():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\n"
                     "def f():\n    import y\n")
    assert [a.name for n in _imports(tree) if isinstance(n, ast.Import) for a in n.names] == ["y"]


def test_the_graph_sees_relative_absolute_and_submodule_imports():
    g = import_graph()
    assert "salcrop_filter.training.losses" in g["salcrop_filter.training.train"]  # from .losses import ...
    assert "salcrop_filter.training.datasets" in g["salcrop_filter.training.train"]  # from . import datasets
    assert "salcrop_filter.evaluation.crop_metrics" in g["salcrop_filter.evaluation.crop_video"]  # absolute
    assert "salcrop_filter.evaluation.video_saliency" in g["salcrop_filter.evaluation.saliency"]  # lazy, in main()


def test_the_package_has_no_import_circles():
    assert {"salcrop_filter.cli", "salcrop_filter.cluster", "salcrop_filter.review.server"} <= set(import_graph())
    circles = [c for c in cycles(import_graph()) if any(m.startswith(CHECKED) for m in c)]
    assert circles == [], f"import circles: {circles}"
