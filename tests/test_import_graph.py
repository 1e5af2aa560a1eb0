"""The package has no import circles: each module imports only modules below it.

A circle (a imports b, b imports a, even inside a function) means neither can be read, tested or moved
alone; a module both need belongs below both. The graph is read from the source (every relative import,
top level or inside a function), so the check needs neither the compiled core nor PyAV.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "salcrop_filter"

# Folders whose modules are checked among themselves. training/ and evaluation/ join once their own circles
# are gone (their imports of each other's modules are another change).
CHECKED = [PACKAGE]


def import_graph(folder: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same folder it imports (``from . import x``, ``from .x import y``)."""
    modules = {p.stem: p for p in folder.glob("*.py") if p.name != "__init__.py"}
    modules.update({p.name: p / "__init__.py" for p in folder.iterdir() if (p / "__init__.py").is_file()})
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            # A subpackage's __init__ sees its own folder at level 1; a module file sees its siblings.
            own_level = 2 if path.name == "__init__.py" else 1
            if isinstance(node, ast.ImportFrom) and node.level == own_level:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(alias.name.split(".")[0] for alias in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_graph_reads_lazy_imports(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    from .b import g\n    return g\n")
    (tmp_path / "b.py").write_text("from . import a\n")
    assert import_graph(tmp_path) == {"a": {"b"}, "b": {"a"}}


@pytest.mark.parametrize("folder", CHECKED, ids=lambda p: p.name)
def test_no_import_circles(folder: Path):
    graph = import_graph(folder)
    assert {"cli", "cluster", "pipeline", "preview"} <= set(graph) or folder != PACKAGE
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])
