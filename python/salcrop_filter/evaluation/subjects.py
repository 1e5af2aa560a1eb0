"""Issue 26's measurements (EVALUATION.md "Issue 26: picked subjects", BENCHMARKS.md "Issue 26: tracker cost").

``python -m salcrop_filter.evaluation.subjects tracking SEQ_DIR...``: the core's tracker on sequences with ground-truth
boxes in the OTB layout (``img/*.jpg`` and ``groundtruth_rect.txt``, one ``x,y,w,h`` per frame, commas or tabs),
started on the first frame's box: success (IoU >= 0.5) over the frames where the subject is visible, the frames it
said it lost, the mean IoU and the tracker's speed (process CPU time, so other load on the machine counts less).

``python -m salcrop_filter.evaluation.subjects keep VIDEO T X Y W H``: the whole pipeline on a real clip with one
pick: on how many of the frames the subject is seen its tracked box (the part inside the frame) lies fully inside
the window, and the same over the frames where a window can hold it (the box no wider than the window).

``python -m salcrop_filter.evaluation.subjects speed``: frames per second of one tracker at 1280x720 on one core
(a synthetic moving texture, so it needs no data).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class TrackingResult:
    name: str
    frames: int
    size: tuple[int, int]
    visible: int
    success: float   # share of visible frames with IoU >= 0.5
    lost: int        # frames the tracker said it lost
    lost_visible: int
    mean_iou: float
    fps_cpu: float   # tracker updates per second of process CPU time (grey copies included)


def load_sequence(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    gt = [[float(v) for v in re.split(r"[,\s]+", line.strip())]
          for line in (folder / "groundtruth_rect.txt").read_text().splitlines() if line.strip()]
    images = sorted((folder / "img").glob("*.jpg"))[:len(gt)]
    frames = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in images])
    return frames, np.array(gt[:len(frames)])


def track_sequence(folder: Path) -> TrackingResult:
    from .. import _core

    frames, gt = load_sequence(folder)
    t0 = time.process_time()
    out = _core.track_frames(frames, 0, [float(v) for v in gt[0]])
    cpu = time.process_time() - t0
    visible = [k for k in range(len(gt)) if gt[k][2] > 0 and gt[k][3] > 0 and np.isfinite(gt[k]).all()]
    ious = np.array([iou(out[k, :4], gt[k]) for k in visible])
    lost = out[:, 5] > 0
    return TrackingResult(folder.name, len(gt), (frames.shape[2], frames.shape[1]), len(visible),
                          float((ious >= 0.5).mean()), int(lost.sum()), int(lost[visible].sum()), float(ious.mean()),
                          len(gt) / max(cpu, 1e-9))


def keep_clip(video: Path, t: float, box: list[float], ratio: str = "9:16") -> dict[str, float]:
    """reframe with one pick; the share of frames with a tracked subject whose box is inside the window."""
    import tempfile

    from ..pipeline import reframe

    with tempfile.TemporaryDirectory() as d:
        path = reframe(video, Path(d) / "out.mp4", ratio, subjects=[{"t": t, "box": box}], audio=False)
    frames = path.frames
    seen = [f for f in frames if f.subject is not None]
    W, H = path.source.width, path.source.height

    def inside(f) -> bool:  # the part of the box inside the frame (a subject may stand partly outside it)
        x0, y0 = max(0.0, f.subject[0]), max(0.0, f.subject[1])
        x1, y1 = min(W, f.subject[0] + f.subject[2]), min(H, f.subject[1] + f.subject[3])
        return f.x <= x0 + 0.5 and x1 <= f.x + f.w + 0.5 and f.y <= y0 + 0.5 and y1 <= f.y + f.h + 0.5

    def fits(f) -> bool:  # a window can hold it at all
        return (min(W, f.subject[0] + f.subject[2]) - max(0.0, f.subject[0]) <= f.w and
                min(H, f.subject[1] + f.subject[3]) - max(0.0, f.subject[1]) <= f.h)

    fitting = [f for f in seen if fits(f)]
    return {"frames": len(frames), "seen": len(seen), "fits": len(fitting),
            "inside": float(np.mean([inside(f) for f in seen])) if seen else 0.0,
            "inside_where_it_fits": float(np.mean([inside(f) for f in fitting])) if fitting else 0.0,
            "shots": len(path.shots)}


def tracker_speed(frames: int = 200, width: int = 1280, height: int = 720) -> dict[str, float]:
    """One tracker over a textured picture moving 2 px a frame, at width x height RGB: updates per CPU second."""
    from .. import _core

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height // 8, width // 8 + frames // 4 + 8, 3), dtype=np.uint8)
    big = np.kron(base, np.ones((8, 8, 1), np.uint8))  # 8x8 blocks: texture a correlation filter can follow
    shots = [np.ascontiguousarray(big[:height, 2 * k:2 * k + width]) for k in range(frames + 1)]
    tracker = _core.SubjectTracker(shots[0], [600.0, 300.0, 80.0, 160.0])
    t0, w0 = time.process_time(), time.perf_counter()
    lost = 0
    for k in range(1, frames + 1):
        lost += bool(tracker.update(shots[k])[5])
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    return {"frames": frames, "fps_cpu": frames / cpu, "fps_wall": frames / wall, "lost": lost}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m salcrop_filter.evaluation.subjects", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    tr = sub.add_parser("tracking")
    tr.add_argument("sequences", nargs="+", type=Path)
    kp = sub.add_parser("keep")
    kp.add_argument("video", type=Path)
    kp.add_argument("t", type=float)
    kp.add_argument("box", type=float, nargs=4)
    kp.add_argument("--ratio", default="9:16")
    sub.add_parser("speed")
    a = p.parse_args(argv)
    if a.what == "tracking":
        print("| sequence | frames | size | success (IoU >= 0.5, visible frames) | lost frames | mean IoU | "
              "tracker fps (CPU time) |")
        print("|---|---|---|---|---|---|---|")
        for folder in a.sequences:
            r = track_sequence(folder)
            print(f"| {r.name} | {r.frames} | {r.size[0]}x{r.size[1]} | {100 * r.success:.1f}% of {r.visible} | "
                  f"{r.lost} | {r.mean_iou:.3f} | {r.fps_cpu:.0f} |")
    elif a.what == "keep":
        print(json.dumps(keep_clip(a.video, a.t, list(a.box), a.ratio)))
    else:
        print(json.dumps(tracker_speed()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
