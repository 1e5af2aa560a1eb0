"""The filter's several ratios from one pass: salcrop=ratios=9/16|1|4/5 with one output pad per ratio.

The real ffmpeg binary on a real clip with cuts: each output (its crop path and its pictures) must equal the
single-ratio run's with the same options; path= writes one file per ratio, the ratio before its extension.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

RATIOS = {"9/16": "9x16", "1": "1x1", "4/5": "4x5"}


def ffmpeg_run(ffmpeg: Path, *args: str | Path, expect_ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-y", *map(str, args)],
                          capture_output=True, text=True, timeout=600)
    if expect_ok and proc.returncode != 0:
        pytest.fail(f"ffmpeg exit {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc


def framemd5(path: Path) -> list[str]:
    """Per-frame lines of a framemd5 file: stream, dts, pts, duration, size, md5 (the header lines dropped)."""
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def clip(shared_videos: Path) -> Path:
    return shared_videos / "bikes.mp4"  # 640x272, 250 frames, several cuts


@pytest.fixture(scope="module")
def single_runs(ffmpeg: Path, clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One run per ratio, as before: -vf salcrop=ratio=R:path=..., the pictures as framemd5."""
    out = tmp_path_factory.mktemp("single")
    runs = {}
    for ratio, tag in RATIOS.items():
        ffmpeg_run(ffmpeg, "-i", clip, "-an", "-vf", f"salcrop=ratio={ratio}:smoothing=0.7:path={out / tag}.json",
                   "-f", "framemd5", out / f"{tag}.md5")
        runs[tag] = {"path": json.loads((out / f"{tag}.json").read_text()), "md5": framemd5(out / f"{tag}.md5")}
    return runs


def test_one_pass_outputs_equal_single_ratio_runs(ffmpeg: Path, clip: Path, single_runs: dict[str, dict],
                                                  tmp_path: Path) -> None:
    pads = "".join(f"[{tag}]" for tag in RATIOS.values())
    args: list[str | Path] = ["-i", clip, "-filter_complex",
                              f"[0:v]salcrop=ratios={'|'.join(RATIOS)}:smoothing=0.7:path={tmp_path / 'p.json'}{pads}"]
    for tag in RATIOS.values():
        args += ["-map", f"[{tag}]", "-f", "framemd5", tmp_path / f"{tag}.md5"]
    proc = ffmpeg_run(ffmpeg, *args)
    # one engine: the model is loaded and described once, with a window per output
    assert proc.stderr.count("salcrop: model") == 1
    assert "output 2: window" in proc.stderr
    assert sorted(p.name for p in tmp_path.glob("p.*.json")) == ["p.1x1.json", "p.4x5.json", "p.9x16.json"]
    for tag, single in single_runs.items():
        path = json.loads((tmp_path / f"p.{tag}.json").read_text())
        assert path["version"] == 2
        assert path == single["path"], tag  # every window, shot and segment
        assert len(path["frames"]) == 250 and len(path["shots"]) > 1
        assert framemd5(tmp_path / f"{tag}.md5") == single["md5"], tag  # the same pictures, timestamps and sizes


def test_one_output_pad_per_ratio_as_split_has(ffmpeg: Path, clip: Path, tmp_path: Path) -> None:
    # two ratios, the second output encoded, the first only counted: pads are independent links
    ffmpeg_run(ffmpeg, "-t", "1", "-i", clip, "-filter_complex", "[0:v]salcrop=ratios=9/16|16/9[a][b]",
               "-map", "[a]", "-f", "null", "-", "-map", "[b]", "-c:v", "libx264", "-preset", "ultrafast",
               tmp_path / "wide.mp4")
    assert (tmp_path / "wide.mp4").stat().st_size > 0


@pytest.mark.parametrize("ratios, words", [
    ("9/16|18/32", ["'9/16' and '18/32' are the same ratio"]),
    ("9/16|wide", ["ratio='wide' is not valid"]),
    ("9/16||1", ["empty item"]),
])
def test_bad_ratio_list_fails_with_a_reason(ffmpeg: Path, clip: Path, tmp_path: Path, ratios: str,
                                            words: list[str]) -> None:
    n = ratios.count("|") + 1
    pads = "".join(f"[o{k}]" for k in range(n))
    maps: list[str | Path] = []
    for k in range(n):
        maps += ["-map", f"[o{k}]", "-c:v", "libx264", tmp_path / f"o{k}.mp4"]
    proc = ffmpeg_run(ffmpeg, "-i", clip, "-filter_complex", f"[0:v]salcrop=ratios={ratios}:path={tmp_path}/p.json"
                      f"{pads}", *maps, expect_ok=False)
    assert proc.returncode != 0
    for w in words:
        assert w in proc.stderr, proc.stderr[-2000:]
    assert not list(tmp_path.glob("*.json"))


def test_debug_view_takes_one_ratio(ffmpeg: Path, clip: Path) -> None:
    proc = ffmpeg_run(ffmpeg, "-i", clip, "-filter_complex", "[0:v]salcrop=ratios=9/16|1:debug=1[a][b]",
                      "-map", "[a]", "-f", "null", "-", "-map", "[b]", "-f", "null", "-", expect_ok=False)
    assert proc.returncode != 0
    assert "shows one ratio's window" in proc.stderr, proc.stderr[-2000:]
