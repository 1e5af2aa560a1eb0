"""The planner on real two-subject clips of hevc-gaze, fed the viewers' own gaze maps (`_core.plan_path`).

Couple and KristenAndSara are two people talking at the two sides of the frame, farther apart than a 9:16 window;
the viewers' attention moves between them. Today's planner swung the window back and forth between the speakers
(9.8 px/frame on Couple); an editor holds one and moves only when the other keeps the floor, or with `pad` widens
the view to keep both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from salcrop_filter import _core
from salcrop_filter.training.video_gaze import GazeClip, load_clips

MAP_H, MAP_W = 18, 32


@pytest.fixture(scope="module")
def talking_pairs(shared_data: Path) -> list[tuple[GazeClip, np.ndarray]]:
    clips = load_clips(names=["Couple", "KristenAndSara"])
    return [(c, np.stack([c.gaze_map(i, MAP_H, MAP_W) for i in range(c.frames)])) for c in clips]


def kept(clip: GazeClip, windows: np.ndarray) -> float:
    inside = total = 0
    for i, (x, y, w, h) in enumerate(windows):
        p = clip.points(i)
        inside += int(np.count_nonzero((p[:, 0] >= x) & (p[:, 0] < x + w) & (p[:, 1] >= y) & (p[:, 1] < y + h)))
        total += len(p)
    return inside / total


def test_two_speakers_hold_the_camera_without_ping_pong(talking_pairs) -> None:
    for clip, maps in talking_pairs:
        windows, _ = _core.plan_path(maps, [], clip.width, clip.height, clip.fps)
        centre = windows[:, 0] + windows[:, 2] / 2.0
        v = np.diff(centre)
        moving = np.flatnonzero(v)
        turns = [b for a, b in zip(moving, moving[1:]) if np.sign(v[a]) != np.sign(v[b]) and b - a < clip.fps]
        assert not turns, f"{clip.name}: the window turns back within a second at frames {turns}"
        assert np.abs(v).mean() < 0.5 * 9.8 * clip.width / 1920, f"{clip.name}: still swinging between speakers"


def test_pad_widens_the_view_to_keep_both_speakers(talking_pairs) -> None:
    for clip, maps in talking_pairs:
        plain, _ = _core.plan_path(maps, [], clip.width, clip.height, clip.fps)
        padded, _ = _core.plan_path(maps, [], clip.width, clip.height, clip.fps, pad="black")
        assert (padded[:, 2] > plain[:, 2]).all() and (padded[:, 3] == plain[:, 3]).all(), clip.name
        assert (padded[:, 0] >= 0).all() and (padded[:, 0] + padded[:, 2] <= clip.width).all()
        assert (padded == padded[0]).all(), "a padded shot is one still, wider view"
        # The plain path plans for the map's mass (it keeps 68% on KristenAndSara, 63% on Couple), so the wider view's
        # margin over it is smaller than over the earlier planner's (0.1): still a clear gain.
        assert kept(clip, padded) >= kept(clip, plain) + 0.08, f"{clip.name}: the wider view keeps both speakers"


@pytest.mark.needs_shared
def test_one_subject_is_never_padded() -> None:
    (clip,) = load_clips(names=["Johnny"])  # one man talking to the camera
    maps = np.stack([clip.gaze_map(i, MAP_H, MAP_W) for i in range(clip.frames)])
    plain, _ = _core.plan_path(maps, [], clip.width, clip.height, clip.fps)
    padded, _ = _core.plan_path(maps, [], clip.width, clip.height, clip.fps, pad="black")
    assert (padded == plain).all()
