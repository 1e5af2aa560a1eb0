#!/usr/bin/env python3
"""What the face detector finds at smaller inputs (issue 25, stop 31), against the 640x640 letterbox of the
original YuNet file: per clip, on every `--step`th frame, the detections of the shipped model (any input size) at a
long side of 640 (16:9: 640x384), 480 and 320, matched one to one to the reference's (greedy by IoU >= 0.5): how
many reference faces are found, the mean IoU of the matches, the faces found that the reference does not have, the
smallest reference face missed (its height in source pixels), and the CPU ms per detection.

    python benchmarks/face_input_sizes.py --reference /tmp/face_detection_yunet_2023mar.onnx CLIP...

The reference model is the original file (models/NOTICE-faces.md says where it comes from; git show
HEAD~N:models/face-yunet.onnx is the same bytes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import av
import numpy as np

from salcrop_filter import _core
from salcrop_filter.evaluation.subjects import iou


def match(ref: list, got: list) -> tuple[list[float], list[tuple], int]:
    """IoUs of the matched pairs, the reference faces missed, the extra detections."""
    pairs = sorted(((iou(r, g), i, j) for i, r in enumerate(ref) for j, g in enumerate(got)), reverse=True)
    used_r, used_g, ious = set(), set(), []
    for v, i, j in pairs:
        if v < 0.5 or i in used_r or j in used_g:
            continue
        used_r.add(i)
        used_g.add(j)
        ious.append(v)
    missed = [r for i, r in enumerate(ref) if i not in used_r]
    return ious, missed, len(got) - len(used_g)


def frames(path: Path, step: int, seconds: float) -> list[np.ndarray]:
    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if f.time is not None and f.time > seconds:
                break
            if i % step == 0:
                out.append(f.to_ndarray(format="rgb24"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", type=Path, nargs="+")
    ap.add_argument("--reference", type=Path, required=True, help="the original 640x640 YuNet file")
    ap.add_argument("--sides", default="640,480,320")
    ap.add_argument("--step", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    ref_det = _core.FaceDetector(path=str(args.reference))
    det = _core.FaceDetector()
    assert det.any_size and not ref_det.any_size
    sides = [int(s) for s in args.sides.split(",")]
    print("| clip | frames | reference faces (ms) | " + " | ".join(
        f"{s}: found, mean IoU, extra, smallest missed (ms)" for s in sides) + " |")
    print("|---|---:|---:|" + "---|" * len(sides))
    for clip in args.clips:
        pics = frames(clip, args.step, args.seconds)
        t = time.process_time()
        refs = [[d[:4] for d in ref_det.detect(p)] for p in pics]
        ref_ms = (time.process_time() - t) * 1000 / len(pics)
        n_ref = sum(len(r) for r in refs)
        cells = []
        for side in sides:
            t = time.process_time()
            gots = [[d[:4] for d in det.detect(p, side)] for p in pics]
            ms = (time.process_time() - t) * 1000 / len(pics)
            ious, missed, extra = [], [], 0
            for r, g in zip(refs, gots):
                a, b, c = match(r, g)
                ious += a
                missed += b
                extra += c
            small = f"{min(m[3] for m in missed):.0f} px" if missed else "-"
            cells.append(f"{len(ious)}/{n_ref}, {np.mean(ious) if ious else 0:.3f}, {extra}, {small} ({ms:.1f})")
        h, w = pics[0].shape[:2]
        print(f"| {clip.stem} ({w}x{h}) | {len(pics)} | {n_ref} ({ref_ms:.1f}) | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
