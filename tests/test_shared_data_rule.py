"""The rule that keeps a stranger's clone green: tests reach ../shared only through conftest's fixtures.

Two checks. Statically, no test module spells a path into the shared data itself (a string that starts a path
at ``shared``/``../shared``, or reads SALCROP_SHARED/SALCROP_DATA): only conftest.py knows where the data is.
Dynamically, conftest's audit hook flags a test that opens, lists or runs something under the data without
asking for it; here it is shown to catch such a read and to leave a declared one alone.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

import conftest

TESTS = Path(__file__).resolve().parent
# A string that is (the start of) a path into the shared data, or the variables that locate it.
SHARED_PATH = re.compile(r"^(\.\./)*shared(/|$)")
LOCATORS = {"SALCROP_SHARED", "SALCROP_DATA"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def direct_shared_paths(source: str) -> list[str]:
    """The strings in ``source`` (docstrings aside) that locate the shared data without the fixtures."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if SHARED_PATH.match(node.value.strip()) or node.value in LOCATORS:
                found.append(f"line {node.lineno}: {node.value!r}")
    return found


def test_the_check_catches_the_ways_a_path_into_shared_is_spelled() -> None:
    assert direct_shared_paths('P = REPO.parent / "shared" / "videos"')
    assert direct_shared_paths('open("../shared/videos/a.mp4")')
    assert direct_shared_paths('import os\nx = os.environ["SALCROP_DATA"]')
    assert not direct_shared_paths('"""Reads ../shared/videos."""\n'
                                   'def f(shared_videos):\n    return shared_videos / "a.mp4"')
    assert not direct_shared_paths('assert p.exists(), f"missing {p} (../shared/data/pano360)"')


@pytest.mark.parametrize("module", sorted(p.name for p in TESTS.glob("test_*.py") if p.name != Path(__file__).name))
def test_no_test_module_locates_the_shared_data_itself(module: str) -> None:
    found = direct_shared_paths((TESTS / module).read_text())
    assert not found, f"{module} reaches ../shared directly; ask for shared_videos/shared_data/real_clip: {found}"


def test_the_guard_flags_an_undeclared_read_and_not_a_declared_one(tmp_path: Path) -> None:
    probe = Path(conftest._SHARED_ROOTS[0]) / "no-such-file"
    saved = dict(conftest._guard)
    try:
        conftest._guard.update(undeclared=True, touched=[])
        conftest._audit("open", (str(probe), "r", 0))
        conftest._audit("subprocess.Popen", ("ffmpeg", ["ffmpeg", "-i", str(probe)], None, None))
        conftest._audit("open", (str(tmp_path / "elsewhere"), "r", 0))
        conftest._audit("subprocess.Popen", ("ffmpeg", ["ffmpeg"], None, {"SALCROP_DATA": str(probe)}))
        assert conftest._guard["touched"] == [f"open {probe}", f"subprocess.Popen {probe}"]
        conftest._guard.update(undeclared=False, touched=[])
        conftest._audit("open", (str(probe), "r", 0))
        assert conftest._guard["touched"] == []
    finally:
        conftest._guard.clear()
        conftest._guard.update(saved)


@pytest.mark.skipif(not conftest.have_shared_data(), reason="the hook is installed only where the data is")
def test_the_guard_is_installed_and_sees_a_real_open() -> None:
    saved = dict(conftest._guard)
    try:
        conftest._guard.update(undeclared=True, touched=[])
        os.listdir(conftest.SHARED)
        assert conftest._guard["touched"], "the audit hook did not see a listing of the shared folder"
    finally:
        conftest._guard.clear()
        conftest._guard.update(saved)
