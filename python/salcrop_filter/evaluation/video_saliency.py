"""Saliency on real video with real gaze (hevc-gaze), scored by whole clips left out.

``python -m salcrop_filter.evaluation.video_saliency --model models/salcrop-int8.onnx [--folds 0 1 2]``

Every :data:`EVAL_STEP`-th frame of a clip that carries fixations is scored against the fixations active on it
(CC, NSS, SIM, AUC-Judd, KLD; maps and ground truth at :data:`EVAL_LONG_SIDE` px on the longer side, ground truth
blurred as the still images are). The model sees the clip as the core would at that sampling: whole frame squashed
to its input, the previous sampled frame as ``prev_frame``, the state carried from the clip's first frame.
Predictors: a model (ONNX file, or a torch checkpoint with the motion stream and/or state switched off), the UNISAL
teacher (cached maps, :mod:`salcrop_filter.training.teacher`), and a centre bias whose width is fitted on the
training clips of the fold.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
from typing import Callable, Sequence

import numpy as np
import torch

from ..training import teacher as teacher_mod
from ..training.video_gaze import FOLDS, GazeClip, load_clips
from .metrics import METRICS, all_metrics, cc
from .saliency_maps import CENTRE_SIGMAS, OnnxSaliency, centre_bias, mean_rows, upsample

EVAL_STEP = 5
EVAL_LONG_SIDE = 160
FRAME_CACHE_VERSION = 1

MapFn = Callable[[GazeClip, np.ndarray, np.ndarray], np.ndarray]


def eval_size(clip: GazeClip) -> tuple[int, int]:
    """(height, width) of the scoring grid: the video's aspect, longer side :data:`EVAL_LONG_SIDE`."""
    s = EVAL_LONG_SIDE / max(clip.width, clip.height)
    return max(1, round(clip.height * s)), max(1, round(clip.width * s))


def clip_frames(clip: GazeClip, hw: tuple[int, int], step: int = EVAL_STEP) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``0, step, 2*step, ...`` squashed to ``hw`` (uint8 [T,H,W,3]) and their indices; cached on disk."""
    key = hashlib.sha256(f"{clip.path.stat().st_size}:{clip.path.stat().st_mtime_ns}:{clip.frames}".encode())
    path = (teacher_mod.cache_dir() / "frames" /
            f"{clip.name}-{hw[0]}x{hw[1]}-s{step}-{key.hexdigest()[:12]}-v{FRAME_CACHE_VERSION}.npz")
    if path.exists():
        with np.load(path) as z:
            return z["frames"], z["index"]
    idx, frames = [], []
    for i, f in clip.read_frames((hw[1], hw[0]), step):
        idx.append(i)
        frames.append(f)
    arr, index = np.stack(frames), np.asarray(idx)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Per process: training runs started side by side decode the same clips at once.
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, frames=arr, index=index)
    tmp.replace(path)
    return arr, index


#: The clip last resized by :func:`frames_at`: the four fold-model predictors of one clip ask for the same frames.
_resized: dict[tuple[str, tuple[int, int]], np.ndarray] = {}


def frames_at(clip: GazeClip, frames: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """``frames`` when they are already ``hw``, else the clip's sampled frames at ``hw`` (each model sees the clip
    at its own input size: the large model at 224x400, the small one at 112x200; the scores do not depend on it,
    maps are upsampled to the scoring grid). Clips are scored one after another, so only the last is kept."""
    if tuple(frames.shape[1:3]) == tuple(hw):
        return frames
    key = (str(clip.path), tuple(hw))
    if key not in _resized:
        _resized.clear()
        _resized[key] = clip_frames(clip, hw)[0]
    return _resized[key]


def run_onnx(model: OnnxSaliency, frames: np.ndarray, temporal: bool = True) -> np.ndarray:
    """Maps [T,h,w] of uint8 frames [T,H,W,3] through the ONNX model, state carried when ``temporal``."""
    x = np.ascontiguousarray(frames.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0
    return model.run(x, temporal)


@torch.no_grad()
def run_torch(net: torch.nn.Module, frames: np.ndarray, motion: bool = True, state: bool = True) -> np.ndarray:
    """Maps [T,h,w] through a SalCropNet: ``motion`` feeds the previous sampled frame, ``state`` carries the state."""
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(255)
    s = net.zero_state(1)
    out = []
    for t in range(len(x)):
        prev = x[t - 1:t] if motion and t > 0 else x[t:t + 1]
        if not state:
            s = net.zero_state(1)
        sal, s = net(x[t:t + 1], prev, s)
        out.append(sal[0, 0].numpy())
    return np.stack(out)


def scored_frames(clip: GazeClip, index: np.ndarray) -> list[int]:
    """Positions in ``index`` whose frame carries fixations."""
    return [k for k, i in enumerate(index) if len(clip.points(int(i))) > 0]


def ground_truth(clip: GazeClip, i: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = eval_size(clip)
    return clip.gaze_map(i, h, w), clip.fixation_counts(i, h, w)


def fit_centre_sigma(clips: Sequence[GazeClip]) -> float:
    """The centre-bias width with the best mean CC on the given (training) clips, every 25th frame."""
    best, best_cc = CENTRE_SIGMAS[0], -1.0
    for s in CENTRE_SIGMAS:
        vals = []
        for c in clips:
            h, w = eval_size(c)
            g = centre_bias(h, w, s)
            vals += [cc(g, c.gaze_map(i, h, w)) for i in range(0, c.frames, 25) if len(c.points(i))]
        m = float(np.mean(vals))
        if m > best_cc:
            best, best_cc = s, m
    return best


def teacher_maps_for(clip: GazeClip, index: np.ndarray) -> np.ndarray | None:
    """The teacher's cached maps at the frames ``index`` (None when the clip's maps are not cached)."""
    tm = teacher_mod.clip_maps(clip.path, clip.fps, compute=False)
    if tm is None:
        return None
    return np.stack([tm.for_frame(int(i)) for i in index])


def score(clip: GazeClip, maps: np.ndarray, index: np.ndarray) -> list[dict[str, float]]:
    """Metrics of ``maps`` (any resolution, one per ``index``) on the frames that carry fixations."""
    h, w = eval_size(clip)
    rows = []
    for k in scored_frames(clip, index):
        dense, fix = ground_truth(clip, int(index[k]))
        m = maps[k]
        sal = m if m.shape == (h, w) else upsample(m, h, w)
        rows.append(all_metrics(np.maximum(sal, 0), dense, fix))
    return rows


def table(results: dict[str, dict[str, float]], counts: dict[str, int] | None = None) -> str:
    lines = ["| predictor | frames | " + " | ".join(METRICS) + " |", "|---|---:|" + "---:|" * len(METRICS)]
    for name, r in results.items():
        n = counts.get(name, "") if counts else ""
        lines.append(f"| {name} | {n} | " + " | ".join(f"{r[k]:.3f}" for k in METRICS) + " |")
    return "\n".join(lines)


def score_clip(clip: GazeClip, predictors: dict[str, Callable[..., np.ndarray | None]],
               input_hw: tuple[int, int]) -> tuple[np.ndarray, dict[str, list[dict[str, float]]]]:
    """Every predictor's metric rows on the clip's scored frames (a predictor that returns None is left out),
    with the sampled frame indices they refer to."""
    frames, index = clip_frames(clip, input_hw)
    out: dict[str, list[dict[str, float]]] = {}
    for name, fn in predictors.items():
        maps = fn(clip, frames, index) if fn.__code__.co_argcount == 3 else fn(clip, index)
        if maps is not None:
            out[name] = score(clip, maps, index)
    return index, out


def evaluate(clips: Sequence[GazeClip], predictors: dict[str, Callable[..., np.ndarray | None]],
             input_hw: tuple[int, int]) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]]]:
    """Mean metrics per predictor over all scored frames of ``clips`` and per clip."""
    rows: dict[str, list] = {k: [] for k in predictors}
    per_clip: dict[str, dict[str, dict[str, float]]] = {}
    for clip in clips:
        _, by_name = score_clip(clip, predictors, input_hw)
        per_clip[clip.name] = {name: mean_rows(r) for name, r in by_name.items()}
        for name, r in by_name.items():
            rows[name] += r
    return {k: mean_rows(v) for k, v in rows.items() if v}, per_clip


def _heat(m: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """A map as an RGB heat image (black -> red -> yellow -> white), scaled to its maximum."""
    v = upsample(m, *hw) if m.shape != hw else m
    v = np.clip(v / max(float(v.max()), 1e-12), 0, 1)
    return (np.stack([np.clip(3 * v, 0, 1), np.clip(3 * v - 1, 0, 1), np.clip(3 * v - 2, 0, 1)], -1) * 255)


def _overlay(frame: np.ndarray, m: np.ndarray) -> np.ndarray:
    heat = _heat(m, frame.shape[:2])
    return (0.45 * frame + 0.55 * heat).astype(np.uint8)


def contact_sheet(clip: GazeClip, model: OnnxSaliency, rows: int = 6) -> np.ndarray:
    """Rows of evenly spaced sampled frames: the frame, the model's map, the viewers' gaze, the teacher's map.

    Maps are drawn over the frame, each scaled to its own maximum; the model runs through the clip with its
    state (as in the scores). The teacher column is grey where its maps are not cached.
    """
    frames, index = clip_frames(clip, model.input_hw)
    maps = run_onnx(model, frames)
    scored = scored_frames(clip, index) or list(range(len(index)))
    picks = [scored[int(round(j))] for j in np.linspace(0, len(scored) - 1, min(rows, len(scored)))]
    tmaps = teacher_maps_for(clip, index)
    s = 2  # draw at twice the model's input size
    hw = (model.input_hw[0] * s, model.input_hw[1] * s)
    out = []
    for k in picks:
        fr = np.kron(frames[k], np.ones((s, s, 1), np.uint8))  # nearest-neighbour enlargement
        gaze = clip.gaze_map(int(index[k]), *hw)
        cols = [fr, _overlay(fr, maps[k]), _overlay(fr, gaze) if gaze.sum() > 0 else fr // 3,
                _overlay(fr, tmaps[k]) if tmaps is not None else np.full_like(fr, 96)]
        row = np.concatenate([np.pad(c, ((2, 2), (2, 2), (0, 0))) for c in cols], 1)
        out.append(row)
    return np.concatenate(out, 0)


def visualize(model_path: pathlib.Path, out_dir: pathlib.Path, clips: Sequence[GazeClip]) -> list[pathlib.Path]:
    """Write ``OUT/<clip>.png`` contact sheets (see :func:`contact_sheet`); return their paths."""
    from PIL import Image, ImageDraw

    model = OnnxSaliency(model_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for clip in clips:
        sheet = contact_sheet(clip, model)
        head = np.full((18, sheet.shape[1], 3), 255, np.uint8)
        img = Image.fromarray(np.concatenate([head, sheet], 0))
        draw = ImageDraw.Draw(img)
        w = sheet.shape[1] // 4
        for j, label in enumerate((f"{clip.name}: frame", f"model ({model_path.name})", "viewers' gaze",
                                   "teacher (UNISAL)")):
            draw.text((j * w + 6, 3), label, fill=(0, 0, 0))
        path = out_dir / f"{clip.name}.png"
        img.save(path)
        written.append(path)
    return written


def fold_predictors(checkpoint: pathlib.Path, models: Sequence[pathlib.Path], sigma: float,
                    threads: int) -> dict[str, Callable]:
    """The held-out fold's network (and its ablations), ONNX models, the teacher and the centre bias."""
    from ..training.model import load_checkpoint

    preds: dict[str, Callable] = {}
    if checkpoint is not None:
        net, _ = load_checkpoint(checkpoint)
        hw = (net.config.input_height, net.config.input_width)
        preds["fold model"] = lambda c, f, i: run_torch(net, frames_at(c, f, hw))
        preds["fold model, no motion"] = lambda c, f, i: run_torch(net, frames_at(c, f, hw), motion=False)
        preds["fold model, no state"] = lambda c, f, i: run_torch(net, frames_at(c, f, hw), state=False)
        preds["fold model, neither"] = lambda c, f, i: run_torch(net, frames_at(c, f, hw), motion=False, state=False)
    for path in models:
        m = OnnxSaliency(path, threads=threads)
        preds[path.name] = (lambda mm: (lambda c, f, i: run_onnx(mm, frames_at(c, f, mm.input_hw))))(m)
    preds["teacher (UNISAL)"] = teacher_maps_for
    preds["centre bias"] = lambda c, i: np.stack([centre_bias(*eval_size(c), sigma)] * len(i))
    return preds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=pathlib.Path, action="append", default=[],
                    help="ONNX model(s) to score on every held-out fold (repeatable)")
    ap.add_argument("--folds-dir", type=pathlib.Path,
                    help="DIR/fold{k}/salcrop.pt: the network trained without fold k, scored on fold k")
    ap.add_argument("--folds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=pathlib.Path, help="write every number here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    clips = load_clips()
    rows: dict[str, list] = {}
    per_clip: dict[str, dict] = {}
    per_fold: dict[int, dict] = {}
    moving_rows: dict[str, list] = {}
    for k in args.folds:
        test = [c for c in clips if c.name in FOLDS[k]]
        train = [c for c in clips if c.name not in FOLDS[k]]
        sigma = fit_centre_sigma(train)
        ckpt = args.folds_dir / f"fold{k}" / "salcrop.pt" if args.folds_dir else None
        preds = fold_predictors(ckpt, args.model, sigma, args.threads)
        fold_rows: dict[str, list] = {}
        for clip in test:
            index, by_name = score_clip(clip, preds, (112, 200))
            per_clip[clip.name] = {}
            for name, r in by_name.items():
                rows.setdefault(name, []).extend(r)
                fold_rows.setdefault(name, []).extend(r)
                per_clip[clip.name][name] = mean_rows(r)
                if clip.camera_moves:
                    moving = [j for j, kk in enumerate(scored_frames(clip, index))
                              if clip.camera_moving_at(int(index[kk]))]
                    moving_rows.setdefault(name, []).extend(r[j] for j in moving)
        per_fold[k] = {n: mean_rows(v) for n, v in fold_rows.items()}
        print(f"fold {k} (centre sigma {sigma}):\n" + table(per_fold[k]), flush=True)
    pooled = {n: mean_rows(v) for n, v in rows.items()}
    counts = {n: len(v) for n, v in rows.items()}
    moving = {n: mean_rows(v) for n, v in moving_rows.items() if v}
    print("\nall held-out folds:\n" + table(pooled, counts))
    print("\nframes where the camera moves (clips.csv):\n" + table(moving, {n: len(v) for n, v in moving_rows.items()}))
    if args.json:
        import json

        args.json.write_text(json.dumps({"pooled": pooled, "counts": counts, "per_fold": per_fold,
                                         "per_clip": per_clip, "camera_moving": moving}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
