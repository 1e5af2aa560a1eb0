"""The fine-tuning command a user with their own gaze recordings runs (README, "Your own gaze data"): real clips in
the documented layout, the shipped weights, a few real optimiser steps, then the files it promises and the
held-out scores before and after. Distillation is off (--no-teacher) so the test needs no teacher download."""

from __future__ import annotations

import csv
import pathlib

import numpy as np
import pytest

from salcrop_filter import _core
from salcrop_filter.training import train, video_gaze

REPO = pathlib.Path(__file__).resolve().parents[1]


def _own_gaze_data(root: pathlib.Path, names: list[str]) -> pathlib.Path:
    """A user's gaze folder: clips.csv, fixations.csv and videos/ holding only ``names`` (copied from hevc-gaze)."""
    src = video_gaze.default_root()
    (root / "videos").mkdir(parents=True)
    for name in ("clips.csv", "fixations.csv"):
        with open(src / name, newline="") as f:
            rows = list(csv.reader(f))
        with open(root / name, "w", newline="") as f:
            csv.writer(f).writerows([rows[0]] + [r for r in rows[1:] if r[0] in names])
    for name in names:
        video = next((src / "videos").glob(f"{name}.*"))
        (root / "videos" / video.name).symlink_to(video)
    return root


@pytest.mark.needs_shared
def test_finetune_on_own_gaze_writes_the_models_and_scores_the_held_out_clip(tmp_path, capsys) -> None:
    gaze = _own_gaze_data(tmp_path / "gaze", ["Lee", "Male"])
    out = tmp_path / "out"
    assert train.main(["--init", str(REPO / "models" / "salcrop.pt"), "--gaze-root", str(gaze), "--hold-out", "Lee",
                       "--video-steps", "2", "--video-batch", "1", "--image-batch", "1", "--no-teacher",
                       "--threads", "2", "--out", str(out)]) == 0
    log = capsys.readouterr().out
    assert "video: 1 training clips" in log and "held out ['Lee']" in log
    before = next(line for line in log.splitlines() if "held-out clips before:" in line)
    after = next(line for line in log.splitlines() if "held-out clips after:" in line)
    assert "CC" in before and "CC" in after
    for name in ("salcrop.pt", "salcrop.onnx", "salcrop-int8.onnx"):
        assert (out / name).is_file(), name
    # The new files are models the core runs: a map per frame of the user's clip, summing to 1.
    lee = video_gaze.load_clips(gaze, names=["Lee"])[0]
    frames = np.stack([f for _, f in lee.read_frames(step=50)])
    maps = _core.SaliencyRunner(str(out / "salcrop-int8.onnx"), "cpu", 1).predict(frames, True)
    assert maps.shape[0] == len(frames) and np.allclose(maps.sum(axis=(1, 2)), 1, atol=1e-3)
    # Unknown held-out names are refused with the names.
    try:
        train.main(["--init", str(REPO / "models" / "salcrop.pt"), "--gaze-root", str(gaze), "--hold-out", "Nobody",
                    "--video-steps", "1", "--no-teacher", "--out", str(tmp_path / "bad")])
    except SystemExit as e:
        assert "Nobody" in str(e.code)
    else:
        raise AssertionError("an unknown --hold-out clip was accepted")
