"""Student-vs-teacher window agreement on the kept-out corpus: the measure itself, and one real clip end to end."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from salcrop_filter.evaluation import crop_corpus
from salcrop_filter.training import corpus

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_window_mass_counts_the_covered_share_of_each_cell():
    maps = np.zeros((2, 4, 8), np.float32)
    maps[0, :, 1] = 0.25  # all mass in the second column (x 10..20 of an 80 px frame)
    maps[1] = 1 / 32  # uniform
    windows = np.array([[0, 0, 15, 40], [20, 0, 40, 40]])  # first: half of that column; second: half the frame
    assert crop_corpus.window_mass(maps, windows, 80, 40) == pytest.approx([0.5, 0.5])


def test_shipped_model_against_the_teacher_on_a_real_kept_out_clip(tmp_path, shared_data):
    """The shortest kept-out clip (1.5 s of dashcam): teacher's maps computed if not cached, the shipped model through
    the Engine; the teacher's window holds most of its own map, the scores are shares, a contact sheet is written."""
    clip = next(c for c in corpus.load_clips() if c.name == "032_carnd_vehdet")
    assert clip.kept_out
    r = crop_corpus.evaluate_clip(clip, str(REPO / "models" / "salcrop-int8.onnx"),
                                  compute_teacher=True)
    assert r.frames == 38
    assert 0.3 < r.mass_teacher <= 1.0 and 0.0 < r.mass_student <= 1.0 and 0.0 < r.mass_centre <= 1.0
    assert 0 <= r.centre_distance <= 1000
    lines = crop_corpus.render_markdown([r], "salcrop-int8.onnx", "9:16")
    assert any(line.startswith("| 032_carnd_vehdet | dashcam | 38 |") for line in lines)
    (png,) = crop_corpus.write_sheets([r], tmp_path, worst=1)
    assert png.stat().st_size > 10_000
