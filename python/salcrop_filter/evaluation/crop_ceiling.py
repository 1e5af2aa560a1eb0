"""Where the crop loses on real video: the map, or the camera path made from it?

``python -m salcrop_filter.evaluation.crop_ceiling [--fold-models F0,F1,F2 | --model M] [--teacher] [--out FILE]``
scores, per
hevc-gaze clip at one ratio, the share of the viewers' fixations kept by windows made from three kinds of maps — the
model's (with ``--fold-models`` each clip by the fold model trained without it, as models/README.md makes them;
else one model, by default the shipped one, which trained on these clips: not held out), the video teacher's and the viewers' own gaze — in two
ways each:
- **planner**: the core's planner (``_core.plan_path``, the product's defaults) fed the maps: what a steady camera
  makes of them;
- **best window per frame**: the window position holding the most of the map's mass on every frame, no camera
  constraint: all a map can tell about where the window should be.
If the model's best window per frame keeps little more than its planned path, no planner can do much better with
that map: the map is the limit. The model's maps are computed as the Engine computes them (the core's
``SaliencyRunner``, every ``--stride``-th frame, state carried, linear in between), so the planner row is close to
the Engine's, not identical (the Engine samples adaptively and streams).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy as np

from salcrop_filter.evaluation import baselines
from salcrop_filter.evaluation.crop_metrics import fixations_kept
from salcrop_filter.evaluation.crop_video import gaze_maps, teacher_maps
from salcrop_filter.training import video_gaze

__all__ = ["sampled_maps", "best_windows", "clip_rows", "main"]


def sampled_maps(runner, clip: video_gaze.GazeClip, stride: int) -> tuple[np.ndarray, list[int]]:
    """The model's maps for every frame of ``clip`` — run on frames 0, stride, 2*stride, ... (state carried),
    linear in between, the tail held (T x h x w float32, each summing to 1) — and the core's shot cuts."""
    from salcrop_filter import _core

    detector = _core.ShotDetector(fps=clip.fps)
    frames = []
    for i, frame in clip.read_frames():
        detector.push_rgb(frame)
        if i % stride == 0:
            frames.append(frame)
    maps = runner.predict(np.stack(frames), True)
    t = np.arange(clip.frames) / stride
    lo = np.minimum(t.astype(int), len(maps) - 1)
    hi = np.minimum(lo + 1, len(maps) - 1)
    a = np.where(hi > lo, t - lo, 0.0)[:, None, None]
    out = (1 - a) * maps[lo] + a * maps[hi]
    return (out / out.sum(axis=(1, 2), keepdims=True)).astype(np.float32), sorted(int(c) for c in detector.flush())


def best_windows(maps: np.ndarray, width: int, height: int, win_w: int, win_h: int) -> np.ndarray:
    """Per frame, the window (``win_w x win_h``, full width or full height of the frame) holding the most of the
    map's mass (T x 4: x, y, w, h). A cell counts by the share of it the window covers."""
    T, h, w = maps.shape
    out = baselines.centre_windows(T, width, height, win_w, win_h)
    horizontal = win_h >= height  # the window slides along x
    if not horizontal and win_w < width:
        raise ValueError("the window must span the frame's full width or height")
    profile = maps.sum(axis=1) if horizontal else maps.sum(axis=2)  # T x cells along the sliding axis
    cells, span, full = profile.shape[1], (win_w if horizontal else win_h), (width if horizontal else height)
    cum = np.concatenate([np.zeros((T, 1)), np.cumsum(profile, axis=1)], axis=1)
    starts = np.arange(0, full - span + 1, 2)
    edges = np.arange(cells + 1)

    def mass_up_to(pos: np.ndarray) -> np.ndarray:  # mass left of pixel position pos, interpolated within a cell
        c = pos / full * cells
        return np.stack([np.interp(c, edges, row) for row in cum])

    mass = mass_up_to(starts + span) - mass_up_to(starts)
    best = starts[mass.argmax(axis=1)]
    out[:, 0 if horizontal else 1] = best
    return out


def clip_rows(clip: video_gaze.GazeClip, model_maps: np.ndarray, cuts: list[int], ratio: str,
              with_teacher: bool) -> dict[str, float]:
    """Fixations kept on ``clip`` by each method (see the module docstring); ``cuts`` for the planner."""
    from salcrop_filter import _core

    points = clip.all_points()
    kinds = {"model": model_maps, "gaze": gaze_maps(clip)}
    if with_teacher:
        kinds["teacher"] = teacher_maps(clip)
    rows = {}
    win_w = win_h = 0
    for kind, maps in kinds.items():
        planned, _ = _core.plan_path(maps, cuts, clip.width, clip.height, clip.fps, ratio=ratio)
        planned = np.asarray(planned)
        win_w, win_h = int(planned[:, 2].max()), int(planned[:, 3].max())
        for method, windows in (("planner", planned),
                                ("best window per frame", best_windows(maps, clip.width, clip.height, win_w, win_h))):
            kept, counted = fixations_kept(windows, points)
            rows[f"{kind}: {method}"] = kept / counted
    kept, counted = fixations_kept(baselines.centre_windows(clip.frames, clip.width, clip.height, win_w, win_h),
                                   points)
    rows["centre"] = kept / counted
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m salcrop_filter.evaluation.crop_ceiling", description=__doc__.splitlines()[0])
    ap.add_argument("--fold-models", default="",
                    help="one ONNX model per fold of training.video_gaze.FOLDS (comma-separated): held out")
    ap.add_argument("--model", default="",
                    help="without --fold-models: this model for every clip (default: the core's CPU default, "
                    "the shipped model, which trained on these clips)")
    ap.add_argument("--ratio", default="9:16")
    ap.add_argument("--stride", type=int, default=3, help="the model runs on every STRIDE-th frame (the Engine's)")
    ap.add_argument("--teacher", action="store_true", help="also the video teacher's maps (cached per clip)")
    ap.add_argument("--clips", default="", help="only these clips (comma-separated)")
    ap.add_argument("--out", help="write the markdown table here too")
    args = ap.parse_args(argv)
    from salcrop_filter import _core

    models = [m.strip() for m in args.fold_models.split(",") if m.strip()]
    if models and len(models) != len(video_gaze.FOLDS):
        ap.error(f"--fold-models needs {len(video_gaze.FOLDS)} models, got {len(models)}")
    held_out = bool(models)
    if not models:
        models = [args.model or _core.default_model_path()] * len(video_gaze.FOLDS)
    runners = [_core.SaliencyRunner(m, "cpu", 1) for m in models]
    names = [c.strip() for c in args.clips.split(",") if c.strip()] or None
    per_clip: dict[str, dict[str, float]] = {}
    for clip in video_gaze.load_clips(names=names):
        maps, cuts = sampled_maps(runners[video_gaze.fold_of(clip.name)], clip, args.stride)
        per_clip[clip.name] = clip_rows(clip, maps, cuts, args.ratio, args.teacher)
        print(f"{clip.name}: " + ", ".join(f"{k} {100 * v:.1f}" for k, v in per_clip[clip.name].items()),
              file=sys.stderr, flush=True)
    methods = list(next(iter(per_clip.values())))
    centre = np.array([r["centre"] for r in per_clip.values()])
    which = ("held-out fold models: " + ", ".join(f"`{m}`" for m in models) if held_out
             else f"one model for all clips, `{models[0]}`: not held out")
    lines = [f"Fixations kept at {args.ratio}, mean over {len(per_clip)} clips ({which})", "",
             "| maps | kept | − centre | clips > 2 points below the centre |", "|---|---:|---:|---:|"]
    for m in methods:
        v = np.array([r[m] for r in per_clip.values()])
        lines.append(f"| {m} | {100 * v.mean():.1f}% | {100 * (v - centre).mean():+.1f} | "
                     f"{int((v - centre < -0.02).sum())} |")
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
