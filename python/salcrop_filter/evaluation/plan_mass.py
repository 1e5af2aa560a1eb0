"""Does the planned path keep what its map offers? Per hevc-gaze clip, per kind of map.

``python -m salcrop_filter.evaluation.plan_mass [--ratios 9:16,1:3,3:1] [--teacher] [--cache DIR] [--out FILE]``

For each clip and each map kind — the model's (the core's ``SaliencyRunner`` every ``--stride``-th frame, state
carried, linear in between, as :func:`crop_ceiling.sampled_maps` makes them), the video teacher's (``--teacher``,
from its cache) and the viewers' own gaze — the core's planner (``_core.plan_path``, the product's defaults) plans
a path, and is scored against:
- **best static**: one window for the whole clip, the position with the most mean mass under the *same* map;
- **smooth oracle**: the planner fed the viewers' gaze at smoothing 0 (the least motion cost the product allows):
  a steady L1 path that sees the fixations, the fair ceiling for a camera (a per-frame best window is not one);
- **centre**: the static centre crop.
Scores: the share of the viewers' fixations inside the window (frames weighted equally), the map's own mass
inside the window (path vs best static: the planner's floor), and the jitter of the window centre (‰ of the frame
length along the moving axis, per frame). ``--mass-values`` scores several values of the planner's mass value
(its rule for being sure before moving) and reports, per fold, the value chosen on the *other* folds.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from salcrop_filter.evaluation import baselines
from salcrop_filter.evaluation.crop_metrics import fixations_kept
from salcrop_filter.training import video_gaze

__all__ = ["window_mass", "best_static", "ClipScores", "score_clip", "evaluate", "render", "main"]


def _profiles(maps: np.ndarray, vertical: bool) -> np.ndarray:
    """Per frame, the map summed across the axis the window does not move on, normalised (T x cells)."""
    prof = (maps.sum(axis=2) if vertical else maps.sum(axis=1)).astype(np.float64)
    total = prof.sum(axis=1, keepdims=True)
    flat = np.full_like(prof, 1.0 / prof.shape[1])
    return np.where(total > 1e-12, prof / np.maximum(total, 1e-12), flat)


def _mass_between(prof: np.ndarray, lo: np.ndarray, hi: np.ndarray, length: int) -> np.ndarray:
    """Per frame, the profile's mass inside [lo, hi) px along an axis of ``length`` px (a cell counts by the share
    of it covered)."""
    cells = prof.shape[1]
    cum = np.concatenate([np.zeros((len(prof), 1)), np.cumsum(prof, axis=1)], axis=1)

    def upto(pos: np.ndarray) -> np.ndarray:
        c = np.clip(pos / length * cells, 0, cells)
        k = np.minimum(c.astype(int), cells - 1)
        rows = np.arange(len(prof))
        return cum[rows, k] + (cum[rows, k + 1] - cum[rows, k]) * (c - k)

    return upto(hi) - upto(lo)


def window_mass(maps: np.ndarray, windows: np.ndarray, width: int, height: int) -> np.ndarray:
    """Per frame, the share of the map's mass inside the window (windows: T x 4, x y w h, spanning the frame's full
    height or full width)."""
    vertical = bool((windows[:, 2] >= width).all()) and not bool((windows[:, 3] >= height).all())
    prof = _profiles(maps, vertical)
    pos = (windows[:, 1] if vertical else windows[:, 0]).astype(np.float64)
    span = (windows[:, 3] if vertical else windows[:, 2]).astype(np.float64)
    return _mass_between(prof, pos, pos + span, height if vertical else width)


def best_static(maps: np.ndarray, width: int, height: int, win_w: int, win_h: int) -> np.ndarray:
    """The one window (for every frame) holding the most mean mass of ``maps``, on even positions (T x 4)."""
    vertical = win_w >= width and win_h < height
    length, span = (height, win_h) if vertical else (width, win_w)
    prof = _profiles(maps, vertical)
    starts = np.arange(0, length - span + 1, 2, dtype=np.float64)
    cells = prof.shape[1]
    mean_cum = np.concatenate([[0.0], np.cumsum(prof.mean(axis=0))])
    edges = np.arange(cells + 1)
    mass = np.interp((starts + span) / length * cells, edges, mean_cum) - np.interp(starts / length * cells, edges,
                                                                                    mean_cum)
    # Ties (a flat map): the position nearest the centre.
    best = starts[np.lexsort((np.abs(starts - (length - span) / 2), -np.round(mass, 9)))[0]]
    out = baselines.centre_windows(len(maps), width, height, win_w, win_h)
    out[:, 1 if vertical else 0] = int(best)
    return out


def jitter_permille(windows: np.ndarray, width: int, height: int) -> float:
    """Mean |Δ centre| per frame along the moving axis, in thousandths of the frame's length along it."""
    vertical = bool((windows[:, 2] >= width).all()) and not bool((windows[:, 3] >= height).all())
    c = windows[:, 1] + windows[:, 3] / 2.0 if vertical else windows[:, 0] + windows[:, 2] / 2.0
    return float(1000 * np.abs(np.diff(c)).mean() / (height if vertical else width)) if len(c) > 1 else 0.0


@dataclass
class ClipScores:
    """One clip at one ratio: fixations kept and map mass per method, jitter of the planned paths, holds."""

    kept: dict[str, float] = field(default_factory=dict)
    mass: dict[str, float] = field(default_factory=dict)
    jitter: dict[str, float] = field(default_factory=dict)
    holds: dict[str, int] = field(default_factory=dict)


def score_clip(clip: video_gaze.GazeClip, kinds: dict[str, np.ndarray], cuts: list[int], gaze: np.ndarray,
               ratio: str, mass_value: float | None = None) -> ClipScores:
    """Plans every kind of map on ``clip`` at ``ratio`` and scores path, best static window, smooth oracle, centre."""
    from salcrop_filter import _core

    points = clip.all_points()
    extra = {} if mass_value is None else {"mass_value": mass_value}
    out = ClipScores()

    def kept(windows: np.ndarray) -> float:
        k, n = fixations_kept(windows, points)
        return k / max(1, n)

    ww = wh = 0
    for kind, maps in kinds.items():
        planned, _, info = _core.plan_path(maps, cuts, clip.width, clip.height, clip.fps, ratio=ratio,
                                           with_reasons=True, **extra)
        planned = np.asarray(planned)
        ww, wh = int(planned[:, 2].max()), int(planned[:, 3].max())
        static = best_static(maps, clip.width, clip.height, ww, wh)
        out.kept[f"{kind}: path"] = kept(planned)
        out.kept[f"{kind}: best static"] = kept(static)
        out.mass[f"{kind}: path"] = float(window_mass(maps, planned, clip.width, clip.height).mean())
        out.mass[f"{kind}: best static"] = float(window_mass(maps, static, clip.width, clip.height).mean())
        out.jitter[f"{kind}: path"] = jitter_permille(planned, clip.width, clip.height)
        out.holds[kind] = sum(1 for s in info if s["reason"] != "planned")
    oracle, _ = _core.plan_path(gaze, cuts, clip.width, clip.height, clip.fps, ratio=ratio, smoothing=0.0, **extra)
    out.kept["smooth oracle"] = kept(np.asarray(oracle))
    out.jitter["smooth oracle"] = jitter_permille(np.asarray(oracle), clip.width, clip.height)
    out.kept["centre"] = kept(baselines.centre_windows(clip.frames, clip.width, clip.height, ww, wh))
    return out


def clip_maps(clip: video_gaze.GazeClip, runner, stride: int, cache: pathlib.Path | None,
              teacher: bool, model_key: str = "") -> tuple[dict[str, np.ndarray], list[int], np.ndarray]:
    """The maps of every kind for ``clip`` (the model's cached in ``cache`` when given, under ``model_key``: the
    model file's digest), the core's cuts, the gaze."""
    from salcrop_filter.evaluation.crop_ceiling import sampled_maps
    from salcrop_filter.evaluation.crop_video import gaze_maps, teacher_maps

    path = cache / f"{clip.name}-{model_key}-stride{stride}.npz" if cache is not None else None
    if path is not None and path.exists():
        z = np.load(path)
        model, cuts = z["maps"], [int(c) for c in z["cuts"]]
    else:
        model, cuts = sampled_maps(runner, clip, stride)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, maps=model, cuts=np.asarray(cuts, dtype=np.int64))
    gaze = gaze_maps(clip)
    kinds = {"model": model}
    if teacher:
        kinds["teacher"] = teacher_maps(clip)
    kinds["gaze"] = gaze
    return kinds, cuts, gaze


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def render(per_clip: dict[str, dict[str, ClipScores]], kinds: Sequence[str]) -> list[str]:
    """Per ratio: the per-clip table first, then the means and the targets' checks."""
    lines: list[str] = []
    for ratio, clips in per_clip.items():
        cols = [f"{k}: path" for k in kinds] + [f"{k}: best static" for k in kinds] + ["smooth oracle", "centre"]
        lines += ["", f"#### Planner at {ratio}: fixations kept per clip, map mass path / best static, jitter", "",
                  "| clip | fold | " + " | ".join(cols) + " | " +
                  " | ".join(f"{k} mass path / static" for k in kinds) + " | " +
                  " | ".join(f"{k} jitter ‰" for k in kinds) + " | holds |",
                  "|---|---:|" + "---:|" * (len(cols) + 2 * len(kinds)) + "---|"]
        for name, s in clips.items():
            lines.append(f"| {name} | {video_gaze.fold_of(name) + 1} | " + " | ".join(_pct(s.kept[c]) for c in cols)
                         + " | " + " | ".join(f"{s.mass[f'{k}: path']:.3f} / {s.mass[f'{k}: best static']:.3f}"
                                              for k in kinds)
                         + " | " + " | ".join(f"{s.jitter[f'{k}: path']:.2f}" for k in kinds)
                         + " | " + ", ".join(f"{k} {v}" for k, v in s.holds.items() if v) + " |")
        mean = {c: float(np.mean([s.kept[c] for s in clips.values()])) for c in cols}
        lines.append("| **mean** | | " + " | ".join(f"**{_pct(mean[c])}**" for c in cols) + " | " +
                     " | ".join(f"{np.mean([s.mass[f'{k}: path'] for s in clips.values()]):.3f} / "
                                f"{np.mean([s.mass[f'{k}: best static'] for s in clips.values()]):.3f}"
                                for k in kinds) + " | " +
                     " | ".join(f"{np.mean([s.jitter[f'{k}: path'] for s in clips.values()]):.2f}" for k in kinds)
                     + " | |")
        lines.append("")
        for k in kinds:
            short = [(n, s.mass[f"{k}: path"] - s.mass[f"{k}: best static"]) for n, s in clips.items()]
            below = [f"{n} {d:+.3f}" for n, d in short if d < -0.01]
            lines.append(f"- {k}'s maps: path mass − best static mass, worst clip "
                         f"{min(short, key=lambda v: v[1])[0]} {min(d for _, d in short):+.3f}; clips below −0.01: "
                         f"{', '.join(below) or 'none'}")
        c = np.array([s.kept["centre"] for s in clips.values()])
        for k in kinds:
            p = np.array([s.kept[f"{k}: path"] for s in clips.values()])
            st = np.array([s.kept[f"{k}: best static"] for s in clips.values()])
            worst = int(np.argmin(p - c))
            lines.append(f"- {k}'s path − max(best static, centre): {100 * (p.mean() - max(st.mean(), c.mean())):+.1f} "
                         f"points; clips more than 3 points below the centre: {int((p - c < -0.03).sum())} (worst "
                         f"{list(clips)[worst]} {100 * (p - c)[worst]:+.1f})")
    return lines


def evaluate(clips: Sequence[video_gaze.GazeClip], ratios: Sequence[str], models: Sequence[str], stride: int = 3,
             cache: pathlib.Path | None = None, teacher: bool = False, mass_values: Sequence[float] = (),
             log=lambda m: None) -> tuple[dict[str, dict[str, ClipScores]], dict[float, dict[str, ClipScores]],
                                          list[str]]:
    """Scores every clip at every ratio (``models``: one per fold, or the same model three times); with
    ``mass_values`` also each of those values at the first ratio. (per ratio per clip, per value per clip, kinds)"""
    from salcrop_filter import _core

    from salcrop_filter.checksums import file_sha256

    runners = [_core.SaliencyRunner(m, "cpu", 1) for m in models]
    keys = [file_sha256(m)[:16] for m in models]
    per_clip: dict[str, dict[str, ClipScores]] = {r: {} for r in ratios}
    sweep: dict[float, dict[str, ClipScores]] = {v: {} for v in mass_values}
    kinds: list[str] = []
    for clip in clips:
        fold = video_gaze.fold_of(clip.name)
        maps, cuts, gaze = clip_maps(clip, runners[fold], stride, cache, teacher, keys[fold])
        kinds = list(maps)
        for r in ratios:
            per_clip[r][clip.name] = score_clip(clip, maps, cuts, gaze, r)
        for v in mass_values:
            sweep[v][clip.name] = score_clip(clip, maps, cuts, gaze, ratios[0], mass_value=v)
        s = per_clip[ratios[0]][clip.name]
        log(f"{clip.name}: " + ", ".join(f"{k} {100 * x:.1f}" for k, x in s.kept.items()))
    return per_clip, sweep, kinds


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m salcrop_filter.evaluation.plan_mass",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--ratios", default="9:16,1:3,3:1")
    ap.add_argument("--model", default="", help="ONNX model (default: the core's CPU default, the shipped model, "
                    "which trained on these clips: not held out)")
    ap.add_argument("--fold-models", default="", help="one ONNX model per fold (held out), comma-separated")
    ap.add_argument("--stride", type=int, default=3)
    ap.add_argument("--teacher", action="store_true", help="also the video teacher's maps (cached per clip)")
    ap.add_argument("--clips", default="", help="only these clips (comma-separated)")
    ap.add_argument("--cache", type=pathlib.Path, default=None, help="cache the model's maps here (npz per clip)")
    ap.add_argument("--mass-values", default="",
                    help="comma-separated mass values to compare (leave-one-fold-out choice at the first ratio)")
    ap.add_argument("--out", type=pathlib.Path, default=None)
    args = ap.parse_args(argv)
    from salcrop_filter import _core

    ratios = [r.strip() for r in args.ratios.split(",") if r.strip()]
    models = [m.strip() for m in args.fold_models.split(",") if m.strip()]
    if models and len(models) != len(video_gaze.FOLDS):
        ap.error(f"--fold-models needs {len(video_gaze.FOLDS)} models, got {len(models)}")
    if not models:
        models = [args.model or _core.default_model_path()] * len(video_gaze.FOLDS)
    names = [c.strip() for c in args.clips.split(",") if c.strip()] or None
    values = [float(v) for v in args.mass_values.split(",") if v.strip()]
    per_clip, sweep, kinds = evaluate(video_gaze.load_clips(names=names), ratios, models, args.stride, args.cache,
                                      args.teacher, values, log=lambda m: print(m, file=sys.stderr, flush=True))
    lines = render(per_clip, kinds)
    if values:
        lines += _sweep_lines(sweep, kinds, ratios[0])
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 0


def _sweep_lines(sweep: dict[float, dict[str, ClipScores]], kinds: Sequence[str], ratio: str) -> list[str]:
    """Mean fixations kept per mass value and kind of map, and per fold the value chosen on the other folds."""
    lines = ["", f"#### Mass value (being sure before moving) at {ratio}: fixations kept, mean over clips", "",
             "| mass value | " + " | ".join(kinds) + " | " + " | ".join(f"fold {k + 1} ({kind})" for kind in kinds
                                                              for k in range(len(video_gaze.FOLDS))) + " |",
             "|---:|" + "---:|" * (len(kinds) * (1 + len(video_gaze.FOLDS)))]

    def mean(v: float, kind: str, folds: set[int]) -> float:
        xs = [s.kept[f"{kind}: path"] for n, s in sweep[v].items() if video_gaze.fold_of(n) in folds]
        return float(np.mean(xs)) if xs else float("nan")

    all_folds = set(range(len(video_gaze.FOLDS)))
    for v in sweep:
        lines.append(f"| {v:g} | " + " | ".join(_pct(mean(v, k, all_folds)) for k in kinds) + " | " +
                     " | ".join(_pct(mean(v, k, {f})) for k in kinds for f in sorted(all_folds)) + " |")
    for kind in kinds:
        held = []
        for f in sorted(all_folds):
            chosen = max(sweep, key=lambda v: mean(v, kind, all_folds - {f}))
            held.append(f"fold {f + 1}: chosen {chosen:g} on the others, {_pct(mean(chosen, kind, {f}))} held out")
        lines.append(f"- {kind}'s maps: " + "; ".join(held))
    return lines


if __name__ == "__main__":
    sys.exit(main())
