"""Where a run's results go: output file names for inputs (and ratios), the same on one machine and on Ray.

Below cli.py and cluster.py, which both name outputs this way, so neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["output_name", "is_dir_arg", "ratio_tag"]

_KEEP_SUFFIXES = {".mp4", ".mov", ".mkv", ".m4v"}


def output_name(src: Path, ratio: str | None = None) -> str:
    """The output's file name for an input written into a folder: its name, .mp4 unless a container we keep;
    with ``ratio`` (a run of several ratios) the ratio before the suffix, ``in.9x16.mp4``."""
    suffix = src.suffix.lower() if src.suffix.lower() in _KEEP_SUFFIXES else ".mp4"
    return src.stem + ("" if ratio is None else "." + ratio_tag(ratio)) + suffix


def ratio_tag(ratio: str) -> str:
    """A ratio as it appears in a file name: ``9:16`` and ``9/16`` give ``9x16``, ``0.5625`` stays."""
    return ratio.strip().replace(":", "x").replace("/", "x")


def is_dir_arg(arg: str | os.PathLike[str]) -> bool:
    """A command-line path meant as a folder: it ends with a separator or is an existing folder."""
    text = os.fspath(arg)
    return text.endswith(("/", os.sep)) or Path(text).is_dir()
