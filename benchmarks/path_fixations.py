#!/usr/bin/env python3
"""Fixations kept by the FFmpeg filter's windows on hevc-gaze, two builds side by side (issue 27, stop 32).

crop_eval pushes RGB frames through ``_core.Engine``; the filter gets the decoder's yuv420p and makes its thumbnail
and model input from those planes (preprocess.h), so a change there reaches the filter but not crop_eval (such as
stop 32's model input from the thumbnail's sums, Thumbnailer::model_input, measured and left out). This scores
what the filter itself did: the ``path=`` JSON of each build on every clip (written e.g. by
``ffmpeg -i CLIP.avi -vf salcrop=ratio=9/16:path=DIR/CLIP-9x16-old.json -f null -``), frames weighted equally as in
crop_eval, with the centre crop of the same window size beside them.

    python benchmarks/path_fixations.py --paths /work/cmp/out --ratio 9x16
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from salcrop_filter.evaluation import baselines
from salcrop_filter.evaluation.crop_metrics import fixations_kept
from salcrop_filter.training import video_gaze


def windows_of(path: Path, frames: int) -> np.ndarray:
    """The first ``frames`` windows (x, y, w, h) of a path JSON; fewer is an error."""
    rows = json.loads(path.read_text())["frames"]
    if len(rows) < frames:
        raise SystemExit(f"{path}: {len(rows)} windows for {frames} frames with gaze")
    return np.array([[f["x"], f["y"], f["w"], f["h"]] for f in rows[:frames]], dtype=np.int32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paths", type=Path, required=True, help="folder of CLIP-RATIO-{old,new}.json")
    ap.add_argument("--ratio", default="9x16", help="as in the file names")
    args = ap.parse_args()
    print(f"| clip | size | old | new | new - old | centre |\n|---|---|---:|---:|---:|---:|")
    kept = {"old": [], "new": [], "centre": []}
    weighted = {k: [0.0, 0] for k in kept}
    for clip in video_gaze.load_clips():
        points = clip.all_points()
        row = {}
        for build in ("old", "new"):
            w = windows_of(args.paths / f"{clip.name}-{args.ratio}-{build}.json", clip.frames)
            row[build] = fixations_kept(w, points)
        ww, wh = int(w[:, 2].max()), int(w[:, 3].max())
        row["centre"] = fixations_kept(baselines.centre_windows(clip.frames, clip.width, clip.height, ww, wh), points)
        share = {k: 100.0 * s / max(n, 1) for k, (s, n) in row.items()}
        for k, (s, n) in row.items():
            kept[k].append(share[k])
            weighted[k][0] += s
            weighted[k][1] += n
        print(f"| {clip.name} | {clip.width}x{clip.height} | {share['old']:.1f}% | {share['new']:.1f}% | "
              f"{share['new'] - share['old']:+.2f} | {share['centre']:.1f}% |")
    mean = {k: statistics.mean(v) for k, v in kept.items()}
    fw = {k: 100.0 * s / max(n, 1) for k, (s, n) in weighted.items()}
    print(f"| mean over clips | | {mean['old']:.1f}% | {mean['new']:.1f}% | {mean['new'] - mean['old']:+.2f} | "
          f"{mean['centre']:.1f}% |")
    print(f"| frame-weighted | | {fw['old']:.1f}% | {fw['new']:.1f}% | {fw['new'] - fw['old']:+.2f} | "
          f"{fw['centre']:.1f}% |")
    worst = min(zip(kept["new"], kept["old"]), key=lambda p: p[0] - p[1])
    print(f"largest drop: {worst[0] - worst[1]:+.2f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
