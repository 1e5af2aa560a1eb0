"""Crop quality guard: on held-out virtual-camera clips with real human fixations, salcrop must keep more of
what people look at than a centre crop, move less than a per-frame saliency-argmax crop, and never move its
window inside a shot it films as stationary.

Runs the real core (model, shot detector, planner, streaming engine) on a small subset; a few minutes on
two CPU cores. The full table is EVALUATION.md (``python -m salcrop_filter.crop_eval``, :mod:`salcrop_filter.evaluation.crop`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from salcrop_filter.evaluation import crop as crop_eval

SUBSET = 8
RATIOS = ("9:16", "1:1")


@pytest.fixture(scope="module")
def results(shared_data: Path) -> dict[str, dict[str, crop_eval.MethodScore]]:
    seen = crop_eval.CutStats()
    results = crop_eval.evaluate(crop_eval.iter_clips(subset=SUBSET), RATIOS, threads=2, engine=True,
                                 faces=False, log=lambda *_: None, cut_stats=seen)
    assert seen.clips == SUBSET
    return results


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("method", ["salcrop auto", crop_eval.ENGINE_METHOD])
def test_salcrop_keeps_more_fixations_than_the_centre_crop(results, ratio: str, method: str) -> None:
    scores = results[ratio]
    assert scores[method].kept_frames > 0
    assert scores[method].kept > scores["centre"].kept, (
        f"{method} keeps {scores[method].kept:.3f} of the fixations, the centre crop {scores['centre'].kept:.3f}")


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("method", ["salcrop auto", crop_eval.ENGINE_METHOD])
def test_salcrop_jitters_less_than_the_per_frame_argmax(results, ratio: str, method: str) -> None:
    scores = results[ratio]
    argmax = scores["saliency argmax"]
    assert argmax.d1_n > 0
    # Both the velocity and the acceleration of the window centre.
    assert scores[method].jitter1 < argmax.jitter1
    assert scores[method].jitter2 < argmax.jitter2


@pytest.mark.parametrize("ratio", RATIOS)
def test_stationary_shots_have_zero_movement(results, ratio: str) -> None:
    scores = results[ratio]
    forced = scores["salcrop stationary"]
    assert forced.stat_judged > 0, "forcing mode=stationary must yield stationary shots"
    for name in ("salcrop auto", "salcrop stationary", crop_eval.ENGINE_METHOD):
        s = scores[name]
        assert s.stat_moved == 0, f"{name}: the window moved on {s.stat_moved} of {s.stat_judged} stationary frames"


def test_metrics_count_what_they_claim() -> None:
    """The metrics themselves, on hand-made windows (so a broken metric cannot pass the guards above)."""
    import numpy as np

    fix = [np.array([[10.0, 5.0], [50.0, 5.0]]), np.zeros((0, 2)), np.array([[15.0, 5.0]])]
    windows = np.array([[0, 0, 20, 10], [4, 0, 20, 10], [4, 0, 20, 10]], dtype=np.int32)
    kept, frames = crop_eval.fixations_kept(windows, fix)
    assert frames == 2 and kept == pytest.approx(0.5 + 1.0)
    s1, n1, s2, n2 = crop_eval.centre_jitter(windows, cuts=[])
    assert (s1, n1, s2, n2) == (4.0, 2, 4.0, 1)
    assert crop_eval.centre_jitter(windows, cuts=[1])[:2] == (0.0, 1)  # the jump at a cut is not jitter
    moved, judged = crop_eval.moving_share(windows, np.ones(3, dtype=bool), cuts=[])
    assert (moved, judged) == (1, 2)
