"""Several ratios from one pass (Python, CLI, core): shots and the network once, one path and one file per ratio.

Each ratio's path must equal, frame for frame, the path a run with that ratio alone plans with the same options;
the test compares them on real clips with cuts, through the real core, model, PyAV and encoder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import pytest

from salcrop_filter import CropPath, OptionError, ReframeError, reframe
from salcrop_filter import _core

RATIOS = ("9:16", "1:1", "4:5")


@pytest.fixture(scope="module")
def videos(shared_videos: Path) -> Path:
    return shared_videos


@pytest.fixture(scope="module")
def single_paths(videos: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, CropPath]:
    """bikes.mp4 (640x272, 250 frames, several cuts) reframed once per ratio, the way a user would today."""
    out = tmp_path_factory.mktemp("single")
    return {r: reframe(videos / "bikes.mp4", out / f"{r.replace(':', 'x')}.mp4", r, smoothing=0.7)
            for r in RATIOS}


def frame_count_and_size(path: Path) -> tuple[int, tuple[int, int]]:
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    return len(frames), (frames[0].width, frames[0].height)


def salcrop(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salcrop_filter", *map(str, args)],
                          capture_output=True, text=True, timeout=900)


def test_one_pass_equals_single_ratio_runs(videos: Path, single_paths: dict[str, CropPath], tmp_path: Path) -> None:
    dst = {r: tmp_path / f"out.{r.replace(':', 'x')}.mp4" for r in RATIOS}
    paths = reframe(videos / "bikes.mp4", dst, smoothing=0.7)
    assert list(paths) == list(RATIOS)
    for r in RATIOS:
        assert paths[r].to_dict() == single_paths[r].to_dict(), r
        assert len(paths[r].shots) > 1  # the clip's cuts reached every ratio
        count, size = frame_count_and_size(dst[r])
        assert count == len(paths[r].frames) == 250
        w, h = paths[r].output_size()
        assert size == (w // 2 * 2, h // 2 * 2)
    # the windows differ between ratios (each planned for its own shape)
    assert len({paths[r].frames[0].w for r in RATIOS}) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(d.name for d in dst.values())


def test_cli_ratio_list_into_a_folder(videos: Path, single_paths: dict[str, CropPath], tmp_path: Path) -> None:
    src = videos / "bikes.mp4"
    r = salcrop(src, "--ratio", ",".join(RATIOS), "-o", tmp_path / "out", "--path", tmp_path / "paths",
                "--smoothing", "0.7")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bikes.1x1.mp4", "bikes.4x5.mp4", "bikes.9x16.mp4"]
    for ratio in RATIOS:
        tag = ratio.replace(":", "x")
        path = CropPath.load(tmp_path / "paths" / f"bikes.{tag}.json")  # version 2, one file per ratio
        assert path.to_dict() == single_paths[ratio].to_dict(), ratio
        assert frame_count_and_size(tmp_path / "out" / f"bikes.{tag}.mp4")[0] == 250


@pytest.mark.parametrize("ratios, words", [
    ("9:16,1:1,18:32", ["'9:16' and '18:32' are the same ratio"]),
    ("9:16,0.5625", ["same ratio"]),
    ("9:16,banana", ["ratio='banana' is not valid"]),
    ("9:16,,1:1", ["empty item"]),
])
def test_cli_bad_ratio_list_writes_nothing(videos: Path, tmp_path: Path, ratios: str, words: list[str]) -> None:
    r = salcrop(videos / "carphone_pristine.mp4", "--ratio", ratios, "-o", tmp_path / "out", "--path", tmp_path / "p")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "salcrop: error:" in r.stderr
    for w in words:
        assert w in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_ratio_list_refuses_a_file_output_and_preview(videos: Path, tmp_path: Path) -> None:
    (tmp_path / "one.mp4").write_bytes(b"")
    r = salcrop(videos / "carphone_pristine.mp4", "--ratio", "9:16,1:1", "-o", tmp_path / "one.mp4")
    assert r.returncode == 2 and "with several ratios this must be a folder" in r.stderr, r.stderr
    r = salcrop(videos / "carphone_pristine.mp4", "--ratio", "9:16,1:1", "-o", tmp_path / "o", "--preview",
                tmp_path / "p.mp4")
    assert r.returncode == 2 and "--preview shows one ratio" in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.mp4"]


def test_python_bad_ratios_write_nothing(videos: Path, tmp_path: Path) -> None:
    src = videos / "carphone_pristine.mp4"
    with pytest.raises(OptionError, match="same ratio"):
        reframe(src, {"9:16": tmp_path / "a.mp4", "18/32": tmp_path / "b.mp4"})
    with pytest.raises(OptionError, match="not valid"):
        reframe(src, {"9:16": tmp_path / "a.mp4", "wide": tmp_path / "b.mp4"})
    with pytest.raises(OptionError, match="same file"):
        reframe(src, {"9:16": tmp_path / "a.mp4", "1:1": tmp_path / "a.mp4"})
    with pytest.raises(OptionError, match="leave ratio out"):
        reframe(src, {"9:16": tmp_path / "a.mp4"}, "1:1")
    with pytest.raises(OptionError, match="dst's keys"):
        reframe(src, tmp_path / "a.mp4", "9:16,1:1")
    # an output that cannot be written: the others are not left behind either
    with pytest.raises(ReframeError, match="missing/b.mp4.*No such file or directory"):
        reframe(src, {"9:16": tmp_path / "a.mp4", "1:1": tmp_path / "missing" / "b.mp4"})
    assert list(tmp_path.iterdir()) == []


def test_core_ratio_lists() -> None:
    assert _core.parse_ratios("9/16|1|4/5") == [(9, 16), (1, 1), (4, 5)]
    assert _core.parse_ratios("9:16,1:1") == [(9, 16), (1, 1)]
    with pytest.raises(ValueError, match="same ratio"):
        _core.parse_ratios("1|1:1")
    e = _core.Engine(640, 360, 25.0, ratio="9:16|1|16:9")
    assert e.output_sizes == [(202, 360), (360, 360), (640, 360)]
    assert e.output_size == (202, 360)
    with pytest.raises(ValueError, match="output 3 does not exist"):
        e.path_json(output=3)
    with pytest.raises(ValueError, match="one ratio"):
        _core.Engine(640, 360, 25.0, ratio="9:16|1", keep_maps=True)
    with pytest.raises(ValueError, match="plans one ratio"):
        import numpy as np

        _core.plan_path(np.zeros((2, 14, 25), np.float32), [0], 640, 360, 25.0, ratio="9:16|1")
