"""Shared fixtures: where the repository, its FFmpeg build and the real test clips are.

Nothing here skips: a missing build or a missing clip is a failure that says how to fix it, so a suite
that did not run can never look like a suite that passed.
"""

from __future__ import annotations

from pathlib import Path

import os

import pytest

REPO = Path(__file__).resolve().parent.parent


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
    return _require(REPO.parent / "shared" / "videos", "the shared test clips",
                    "the suite expects ../shared/videos beside the repository")
