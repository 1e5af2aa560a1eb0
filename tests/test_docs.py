"""The documentation: the README a newcomer reads first, and the site scripts/docs.sh builds with --strict.

The README keeps its two commands on its first lines, stays under 12,000 characters, and its five commands run
as written on the demo's clip (here the real bikes.mp4 put where demo.sh puts it, in a temporary folder; the
browser editor is started only as far as its --help). The site builds without a warning (no broken link, no
unresolved Python name), its API page is generated from the docstrings and its filter page from the real
``ffmpeg -h filter=salcrop``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

README = REPO / "README.md"


def test_readme_starts_with_the_two_commands_and_is_short() -> None:
    text = README.read_text()
    assert text.splitlines()[:4] == [
        "```sh",
        "bash scripts/demo.sh   # sets up everything (cached), reframes a real sample clip to 9:16, prints where it is",
        "bash scripts/test.sh   # sets up everything, then runs the whole test suite (what CI runs: .ci/run)",
        "```"]
    assert len(text) <= 12_000, len(text)
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        if not link.startswith("http"):
            assert (REPO / link).exists(), f"README links to {link}, which does not exist"


def _five_commands() -> tuple[list[str], str]:
    text = README.read_text()
    section = text.split("## The five commands people use most", 1)[1]
    blocks = re.findall(r"```(sh|python)\n(.*?)```", section, re.S)
    shell = [line for line in blocks[0][1].splitlines() if line and not line.startswith("#")]
    return shell, blocks[1][1]


def test_the_five_commands_run_as_written(real_clip, build_dir: Path, tmp_path: Path) -> None:
    shell, python = _five_commands()
    assert len(shell) == 4, shell
    (tmp_path / "out").mkdir()
    shutil.copy(real_clip("bikes.mp4"), tmp_path / "out" / "sample.mp4")
    (tmp_path / "build").symlink_to(build_dir)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for line in shell:
        cmd = line.split("#")[0].strip()
        if cmd.startswith("salcrop review"):
            cmd += " --help"  # the editor serves until stopped: its command line is what is checked here
        proc = subprocess.run(cmd, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{cmd}\n{proc.stderr[-3000:]}"
    assert (tmp_path / "out" / "vertical.mp4").stat().st_size > 10_000
    assert {p.name for p in (tmp_path / "out" / "shapes").iterdir()} == {
        "sample.9x16.mp4", "sample.1x1.mp4", "sample.4x5.mp4"}
    assert (tmp_path / "out" / "sample_ffmpeg.mp4").stat().st_size > 10_000
    proc = subprocess.run([sys.executable, "-c", python], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and proc.stdout.split()[0].isdigit(), proc.stderr[-3000:]
    assert (tmp_path / "out" / "square.mp4").exists()


def test_the_site_builds_strictly_with_the_api_and_the_filters_options(ffmpeg: Path) -> None:
    proc = subprocess.run(["bash", str(REPO / "scripts" / "docs.sh")], cwd=REPO, capture_output=True, text=True,
                          timeout=1800, env={**os.environ, "SALCROP_FFMPEG": str(ffmpeg)})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    site = REPO / "site"
    api = (site / "api" / "index.html").read_text()
    for name in ("reframe", "Reframer", "CropPath", "SaliencyModel", "export_onnx", "reframe_many"):
        assert f'id="salcrop_filter.' in api and name in api, name
    options = (site / "filter-options" / "index.html").read_text()
    help_text = subprocess.run([str(ffmpeg), "-hide_banner", "-h", "filter=salcrop"], capture_output=True,
                               text=True, timeout=60).stdout
    names = re.findall(r"^\s+(\w+)\s+<", help_text, re.M)
    assert len(names) > 10 and all(n in options for n in names), names
    for page in ("evaluation", "benchmarks", "commands", "install"):
        assert (site / page / "index.html").exists(), page
