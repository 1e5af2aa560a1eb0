"""Faces on hevc-gaze (issue 25): the product with ``speakers=auto`` (faces count; these clips have no sound used)
against ``speakers=off`` (saliency alone), fixations kept per clip, both Engines fed the same decoded frames.

    python -m salcrop_filter.evaluation.faces_gaze [--ratio 9:16] [--clips A,B] [--fold-models F0,F1,F2]

Without fold models every clip is cropped by the one model given (the shipped one by default), which trained on
some of these clips (models/README.md): the comparison is between the two options, not a held-out score.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from salcrop_filter.evaluation.crop_metrics import fixations_kept
from salcrop_filter.training import video_gaze

CONVERSATIONS = ("Couple", "Johnny", "KristenAndSara", "Vidyo1", "Vidyo3", "Vidyo4")


def run_clip(clip: video_gaze.GazeClip, ratio: str, model: str, threads: int) -> dict[str, float]:
    from salcrop_filter import _core

    engines = {sp: _core.Engine(clip.width, clip.height, clip.fps, ratio=ratio, model=model, device="cpu",
                                threads=threads, speakers=sp) for sp in ("off", "auto")}
    decisions: dict[str, list] = {sp: [] for sp in engines}
    for i, frame in clip.read_frames():
        for sp, e in engines.items():
            e.push_rgb(frame, i / clip.fps)
            decisions[sp].extend(e.pop())
    points = clip.all_points()
    out = {}
    for sp, e in engines.items():
        ds = decisions[sp] + list(e.flush())
        windows = np.array([[d.x, d.y, d.w, d.h] for d in ds], dtype=np.int32)
        kept, counted = fixations_kept(windows, points)
        out[sp] = kept / counted
        if sp == "auto":
            out["faces"] = float(np.mean([len(d.faces) for d in ds]))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m salcrop_filter.evaluation.faces_gaze", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ratio", default="9:16")
    ap.add_argument("--clips", default="")
    ap.add_argument("--model", default="")
    ap.add_argument("--fold-models", default="", help="three models, one per video_gaze.FOLDS entry")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    names = [c for c in a.clips.split(",") if c] or None
    clips = video_gaze.load_clips(names=names)
    folds = [m for m in a.fold_models.split(",") if m]
    print(f"| clip | faces per frame | speakers=off | speakers=auto | auto − off |  ({a.ratio})")
    print("|---|---:|---:|---:|---:|")
    rows = {}
    for clip in clips:
        t0 = time.perf_counter()
        model = folds[video_gaze.fold_of(clip.name)] if folds else a.model
        r = run_clip(clip, a.ratio, model, a.threads)
        rows[clip.name] = r
        print(f"| {clip.name}{' (conversation)' if clip.name in CONVERSATIONS else ''} | {r['faces']:.1f} | "
              f"{100 * r['off']:.1f}% | {100 * r['auto']:.1f}% | {100 * (r['auto'] - r['off']):+.1f} |  "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    off = np.mean([r["off"] for r in rows.values()])
    auto = np.mean([r["auto"] for r in rows.values()])
    worst = min(rows, key=lambda n: rows[n]["auto"] - rows[n]["off"])
    print(f"| mean over {len(rows)} clips | | {100 * off:.1f}% | {100 * auto:.1f}% | {100 * (auto - off):+.1f} |")
    print(f"worst clip: {worst} {100 * (rows[worst]['auto'] - rows[worst]['off']):+.1f}")


if __name__ == "__main__":
    main()
