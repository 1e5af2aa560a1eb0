"""The planner on real video fed the viewers' own gaze (hevc-gaze): its ceiling, beside a centre crop and a
per-frame oracle.

For every clip of :mod:`salcrop_filter.training.video_gaze`, the viewers' gaze maps (``GazeClip.gaze_map`` at
``MAP_H x MAP_W``) go through ``_core.plan_path`` (the core's planner, planned in lookahead chunks exactly as the
streaming engine plans), and the windows are scored against the fixations active on each frame:

- kept: the share of fixations inside the window (mean over clips; pooled over all fixations beside it);
- jitter: mean |Δ| and |Δ²| of the window centre along its axis, px/frame, and per 1000 px of frame width.

``centre`` is a fixed centre crop, ``oracle`` the window that keeps most of each frame's fixations on its own
(no smoothness at all): the bounds a planner works between. Usage::

    python -m salcrop_filter.evaluation.planner_gaze --ratio 9:16 --method planner
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..training.video_gaze import GazeClip, load_clips

__all__ = ["ClipScore", "score_clip", "main"]

MAP_H, MAP_W = 18, 32  # gaze maps at the model's map scale (about 1/60 of a 1080p frame's width per cell)
METHODS = ("planner", "centre", "oracle")


@dataclass
class ClipScore:
    name: str
    kept: int
    fixations: int
    jitter: float        # mean |Δ| of the window centre, px/frame
    jerk: float          # mean |Δ²|, px/frame²
    width: int
    camera_moves: bool
    plan_seconds: float = 0.0

    @property
    def share(self) -> float:
        return self.kept / max(self.fixations, 1)


def windows_for(clip: GazeClip, method: str, ratio: str) -> tuple[np.ndarray, float]:
    """The windows (T x 4: x, y, w, h) a method picks on the clip, and the planner's time (0 for the others)."""
    if method == "planner":
        maps = np.stack([clip.gaze_map(i, MAP_H, MAP_W) for i in range(clip.frames)])
        start = time.perf_counter()
        windows, _ = _core.plan_path(maps, [], clip.width, clip.height, clip.fps, ratio=ratio)
        return windows, time.perf_counter() - start
    # The planner's own window size (an empty map decides nothing else).
    one, _ = _core.plan_path(np.zeros((1, 2, 2), np.float32), [], clip.width, clip.height, clip.fps, ratio=ratio)
    _, _, win_w, win_h = (int(v) for v in one[0])
    horizontal = win_w < clip.width
    length, span = (win_w, clip.width - win_w) if horizontal else (win_h, clip.height - win_h)
    positions = np.arange(0, span + 1, 2)
    out = []
    for i in range(clip.frames):
        pos = span // 2 // 2 * 2
        points = clip.points(i)
        if method == "oracle" and len(points):
            coord = points[:, 0] if horizontal else points[:, 1]
            counts = [np.count_nonzero((coord >= p) & (coord < p + length)) for p in positions]
            pos = int(positions[int(np.argmax(counts))])
        out.append((pos, 0, win_w, win_h) if horizontal else (0, pos, win_w, win_h))
    return np.array(out), 0.0


def score_clip(clip: GazeClip, method: str, ratio: str) -> ClipScore:
    """Fixations kept and jitter of one method on one clip."""
    windows, seconds = windows_for(clip, method, ratio)
    kept = total = 0
    for i, (x, y, w, h) in enumerate(windows[: clip.frames]):
        p = clip.points(i)
        kept += int(np.count_nonzero((p[:, 0] >= x) & (p[:, 0] < x + w) & (p[:, 1] >= y) & (p[:, 1] < y + h)))
        total += len(p)
    horizontal = windows[0, 2] < clip.width
    centre = windows[:, 0] + windows[:, 2] / 2.0 if horizontal else windows[:, 1] + windows[:, 3] / 2.0
    return ClipScore(clip.name, kept, total, float(np.abs(np.diff(centre)).mean()),
                     float(np.abs(np.diff(centre, 2)).mean()), clip.width, clip.camera_moves, seconds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratio", default="9:16")
    ap.add_argument("--method", choices=METHODS, default="planner")
    ap.add_argument("--clips", nargs="*", help="only these clips")
    args = ap.parse_args(argv)
    scores = []
    clips = load_clips(names=args.clips or None)
    for clip in clips:
        s = score_clip(clip, args.method, args.ratio)
        scores.append(s)
        print(f"{s.name:22s} kept {s.share:.3f}  |Δ| {s.jitter:5.2f}  |Δ²| {s.jerk:5.2f}", flush=True)
    moving = [s.share for s in scores if s.camera_moves]
    per_k = lambda attr: np.mean([getattr(s, attr) / s.width * 1000 for s in scores])  # noqa: E731
    plan = sum(s.plan_seconds for s in scores)
    n_frames = sum(c.frames for c in clips) if plan else 0
    print(f"{args.method} {args.ratio}: kept {np.mean([s.share for s in scores]):.4f} (mean of {len(scores)} clips; "
          f"pooled {sum(s.kept for s in scores) / sum(s.fixations for s in scores):.4f}; camera-moving clips "
          f"{np.mean(moving) if moving else float('nan'):.4f}); |Δ| {np.mean([s.jitter for s in scores]):.2f} px/frame "
          f"({per_k('jitter'):.2f} per 1000 px); |Δ²| {np.mean([s.jerk for s in scores]):.3f} ({per_k('jerk'):.3f} per 1000 px)"
          + (f"; planning {1000 * plan / n_frames:.3f} ms/frame" if n_frames else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
