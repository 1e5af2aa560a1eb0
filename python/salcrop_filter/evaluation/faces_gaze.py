"""Faces on hevc-gaze (issue 25): the product with ``speakers=auto`` (faces count; these clips have no sound used)
against ``speakers=off`` (saliency alone), fixations kept per clip, both Engines fed the same decoded frames.

    python -m salcrop_filter.evaluation.faces_gaze [--ratio 9:16] [--clips A,B] [--fold-models F0,F1,F2] [--mouth]

--mouth adds a third engine, ``speakers=auto`` with the moving mouth as the guess of who speaks without sound
(SALCROP_MOUTH_GUESS=1, off by default: EVALUATION.md "Issue 25 (stop 32)"), and the share of its frames with a
face followed as the speaker; the ``auto`` column is then the engine with the guess off.

Without fold models every clip is cropped by the one model given (the shipped one by default), which trained on
some of these clips (models/README.md): the comparison is between the two options, not a held-out score.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from salcrop_filter.evaluation.crop_metrics import fixations_kept
from salcrop_filter.training import video_gaze

CONVERSATIONS = ("Couple", "Johnny", "KristenAndSara", "Vidyo1", "Vidyo3", "Vidyo4")


def run_clip(clip: video_gaze.GazeClip, ratio: str, model: str, threads: int,
             mouth: bool = False) -> dict[str, float]:
    from salcrop_filter import _core

    def engine(speakers: str, guess: bool | None) -> "_core.Engine":
        # The engine reads SALCROP_MOUTH_GUESS when it is built: set it for this one only (None: as it is).
        if guess is None:
            return _core.Engine(clip.width, clip.height, clip.fps, ratio=ratio, model=model, device="cpu",
                                threads=threads, speakers=speakers)
        before = os.environ.get("SALCROP_MOUTH_GUESS")
        os.environ["SALCROP_MOUTH_GUESS"] = "1" if guess else "0"
        try:
            return _core.Engine(clip.width, clip.height, clip.fps, ratio=ratio, model=model, device="cpu",
                                threads=threads, speakers=speakers)
        finally:
            if before is None:
                del os.environ["SALCROP_MOUTH_GUESS"]
            else:
                os.environ["SALCROP_MOUTH_GUESS"] = before

    engines = {"off": engine("off", None), "auto": engine("auto", False if mouth else None)}
    if mouth:
        engines["mouth"] = engine("auto", True)
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
        if sp == "mouth":
            out["followed"] = float(np.mean([d.speaker is not None and d.speaker >= 0 for d in ds]))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m salcrop_filter.evaluation.faces_gaze", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ratio", default="9:16")
    ap.add_argument("--clips", default="")
    ap.add_argument("--model", default="")
    ap.add_argument("--fold-models", default="", help="three models, one per video_gaze.FOLDS entry")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mouth", action="store_true", help="add speakers=auto with the moving mouth as the guess")
    a = ap.parse_args(argv)
    names = [c for c in a.clips.split(",") if c] or None
    clips = video_gaze.load_clips(names=names)
    folds = [m for m in a.fold_models.split(",") if m]
    extra = " auto + mouth | mouth − off | mouth − auto | speaker followed |" if a.mouth else ""
    print(f"| clip | faces per frame | speakers=off | speakers=auto | auto − off |{extra}  ({a.ratio})")
    print("|---|---:|---:|---:|---:|" + ("---:|---:|---:|---:|" if a.mouth else ""))
    rows = {}
    for clip in clips:
        t0 = time.perf_counter()
        model = folds[video_gaze.fold_of(clip.name)] if folds else a.model
        r = run_clip(clip, a.ratio, model, a.threads, mouth=a.mouth)
        rows[clip.name] = r
        more = (f" {100 * r['mouth']:.1f}% | {100 * (r['mouth'] - r['off']):+.1f} | "
                f"{100 * (r['mouth'] - r['auto']):+.1f} | {100 * r['followed']:.0f}% |" if a.mouth else "")
        print(f"| {clip.name}{' (conversation)' if clip.name in CONVERSATIONS else ''} | {r['faces']:.1f} | "
              f"{100 * r['off']:.1f}% | {100 * r['auto']:.1f}% | {100 * (r['auto'] - r['off']):+.1f} |{more}  "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    for col in ("auto", "mouth") if a.mouth else ("auto",):
        off = np.mean([r["off"] for r in rows.values()])
        val = np.mean([r[col] for r in rows.values()])
        worst = min(rows, key=lambda n: rows[n][col] - rows[n]["off"])
        print(f"{col}: mean over {len(rows)} clips {100 * val:.1f}% (off {100 * off:.1f}%, {100 * (val - off):+.1f}); "
              f"worst clip against off: {worst} {100 * (rows[worst][col] - rows[worst]['off']):+.1f}")
    if a.mouth:
        worst = min(rows, key=lambda n: rows[n]["mouth"] - rows[n]["auto"])
        conv = [n for n in rows if n in CONVERSATIONS]
        print(f"mouth against auto: mean {100 * np.mean([r['mouth'] - r['auto'] for r in rows.values()]):+.2f}, "
              f"worst {worst} {100 * (rows[worst]['mouth'] - rows[worst]['auto']):+.1f}; conversations "
              + ", ".join(f"{n} {100 * (rows[n]['mouth'] - rows[n]['auto']):+.1f}" for n in conv))


if __name__ == "__main__":
    main()
