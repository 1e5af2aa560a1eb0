"""Crop quality on real video with real gaze: the hevc-gaze clips (:mod:`salcrop_filter.training.video_gaze`).

Every frame of every clip is decoded once and pushed through the product (``_core.Engine``, one per ratio, the same
C++ engine the FFmpeg filter runs) and the core's shot detector. The same windows size is then given to the
baselines and ceilings:
- **planner on the viewers' gaze**: the core's planner (``_core.plan_path``) fed each frame's recorded fixation
  density instead of the model's maps — what the planner would do with a perfect saliency model (its ceiling);
- **centre**: the static centre crop;
- **oracle**: per frame, the window holding the most fixations (sees the answer; no camera could follow it).
Scores: the share of the frame's active fixations inside the window (frames weighted equally), and the window
centre's jitter within shots. With one model per fold (``fold_models``), each clip is cropped by the model that
never saw it (leave-clips-out); with one model for all, the numbers are only as held-out as that model is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from salcrop_filter.evaluation import baselines
from salcrop_filter.evaluation.crop_metrics import MethodScore, _num, _pct, fixations_kept, oracle_windows
from salcrop_filter.training import video_gaze

__all__ = ["ENGINE", "ENGINE_LARGE", "TEACHER_PLANNER", "GAZE_PLANNER", "CENTRE", "ORACLE", "METHODS", "ClipResult", "RealVideoResults",
           "crop_clip", "evaluate", "render_markdown", "GAZE_MAP_WIDTH"]

ENGINE = "salcrop (Engine)"
#: The row of the large model (models/salcrop-large.onnx, CUDA's default) when its fold models are given.
ENGINE_LARGE = "salcrop, large model (Engine)"
GAZE_PLANNER = "planner on the viewers' gaze"
#: The core's planner fed the video teacher's maps (UNISAL, training.teacher): the bar a distilled student meets.
TEACHER_PLANNER = "planner on the teacher's maps"
CENTRE = "centre"
ORACLE = "oracle"
METHODS = (ENGINE, ENGINE_LARGE, TEACHER_PLANNER, GAZE_PLANNER, CENTRE, ORACLE)
#: The viewers' gaze maps fed to the planner are this many cells wide (the height keeps the frame's aspect).
GAZE_MAP_WIDTH = 64


@dataclass
class ClipResult:
    """One clip at one ratio: every method's windows (frames x 4: x, y, w, h) and each Engine's shot modes."""

    clip: str
    windows: dict[str, np.ndarray]
    engine_modes: dict[str, list[str]]  # Engine row -> its mode per frame
    engine_cuts: dict[str, list[int]]  # Engine row -> the frames where its shots change
    detected_cuts: list[int]


@dataclass
class RealVideoResults:
    """Scores by ratio and method, over all clips and over the clips whose camera moves, and per clip."""

    scores: dict[str, dict[str, MethodScore]] = field(default_factory=dict)
    moving: dict[str, dict[str, MethodScore]] = field(default_factory=dict)
    per_clip: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # ratio -> clip -> method
    cuts: dict[str, list[int]] = field(default_factory=dict)  # clip -> the shot detector's cuts
    clips: list[video_gaze.GazeClip] = field(default_factory=list)
    seconds: float = 0.0


def gaze_maps(clip: video_gaze.GazeClip, width: int = GAZE_MAP_WIDTH) -> np.ndarray:
    """Every frame's fixation density at ``width`` cells across (T x h x w float32)."""
    height = max(1, round(width * clip.height / clip.width))
    return np.stack([clip.gaze_map(i, height, width) for i in range(clip.frames)])


def teacher_maps(clip: video_gaze.GazeClip) -> np.ndarray:
    """The video teacher's map for every frame (its latest sampled frame's, causal; T x h x w float32), computed
    and cached by :func:`salcrop_filter.training.teacher.clip_maps` (~0.1 s a sampled frame when not cached)."""
    from salcrop_filter.training import teacher

    tm = teacher.clip_maps(clip.path, clip.fps)
    return np.stack([tm.for_frame(i) for i in range(clip.frames)]).astype(np.float32)


def crop_clip(clip: video_gaze.GazeClip, ratios: Sequence[str], model: str = "", threads: int = 2,
              engine_options: dict | None = None, extra_models: dict[str, str] | None = None,
              with_teacher: bool = False) -> dict[str, ClipResult]:
    """Decodes ``clip`` once, pushes it through one Engine per ratio (and per model of ``extra_models``, an Engine
    row name -> its model) and the shot detector, then plans the viewers' gaze (and with ``with_teacher`` the
    teacher's maps) and the baselines at the Engine's window size. ``{ratio: ClipResult}``."""
    from salcrop_filter import _core

    models = {ENGINE: model, **(extra_models or {})}
    detector = _core.ShotDetector(fps=clip.fps)
    engines = {(name, r): _core.Engine(clip.width, clip.height, clip.fps, ratio=r, model=m, device="cpu",
                                       threads=threads, **(engine_options or {}))
               for name, m in models.items() for r in ratios}
    decisions: dict[tuple[str, str], list] = {key: [] for key in engines}
    for i, frame in clip.read_frames():
        detector.push_rgb(frame)
        for key, engine in engines.items():
            engine.push_rgb(frame, i / clip.fps)
            decisions[key].extend(engine.pop())
    cuts = sorted(int(c) for c in detector.flush())
    gaze = gaze_maps(clip)
    teacher = teacher_maps(clip) if with_teacher else None
    points = clip.all_points()
    out = {}
    for r in ratios:
        windows, modes, shot_changes = {}, {}, {}
        for name in models:
            ds = decisions[name, r] + list(engines[name, r].flush())
            if [d.frame for d in ds] != list(range(clip.frames)):
                raise RuntimeError(f"{clip.name}: the engine's decisions are not one per decoded frame "
                                   f"({len(ds)} for {clip.frames})")
            windows[name] = np.array([[d.x, d.y, d.w, d.h] for d in ds], dtype=np.int32)
            modes[name] = [d.mode for d in ds]
            shots = [d.shot for d in ds]
            shot_changes[name] = [i for i in range(1, len(shots)) if shots[i] != shots[i - 1]]
        eng = windows[ENGINE]
        ww, wh = int(eng[:, 2].max()), int(eng[:, 3].max())
        planned, _ = _core.plan_path(gaze, cuts, clip.width, clip.height, clip.fps, ratio=r)
        windows.update({GAZE_PLANNER: np.asarray(planned, dtype=np.int32),
                        CENTRE: baselines.centre_windows(clip.frames, clip.width, clip.height, ww, wh),
                        ORACLE: oracle_windows(points, clip.width, clip.height, ww, wh)})
        if teacher is not None:
            planned, _ = _core.plan_path(teacher, cuts, clip.width, clip.height, clip.fps, ratio=r)
            windows[TEACHER_PLANNER] = np.asarray(planned, dtype=np.int32)
        out[r] = ClipResult(clip=clip.name, windows=windows, engine_modes=modes, engine_cuts=shot_changes,
                            detected_cuts=cuts)
    return out


def evaluate(clips: Sequence[video_gaze.GazeClip], ratios: Sequence[str], model: str = "",
             fold_models: Sequence[str] | None = None, threads: int = 2,
             log: Callable[[str], None] = print,
             large_fold_models: Sequence[str] | None = None, with_teacher: bool = False) -> RealVideoResults:
    """Every method on every clip at every ratio. ``fold_models``: one model per :data:`video_gaze.FOLDS` entry,
    each clip cropped by the model of its own fold (trained without it); otherwise ``model`` for all.
    ``large_fold_models``: the same for the large model, scored as the row :data:`ENGINE_LARGE`. ``with_teacher``
    adds the row :data:`TEACHER_PLANNER`."""
    for what, models in (("fold_models", fold_models), ("large_fold_models", large_fold_models)):
        if models is not None and len(models) != len(video_gaze.FOLDS):
            raise ValueError(f"{what} needs {len(video_gaze.FOLDS)} models, one per fold, got {len(models)}")
    res = RealVideoResults(clips=list(clips))
    t_all = time.perf_counter()
    for clip in clips:
        t0 = time.perf_counter()
        fold = video_gaze.fold_of(clip.name)
        clip_model = fold_models[fold] if fold_models is not None else model
        extra = {ENGINE_LARGE: large_fold_models[fold]} if large_fold_models is not None else None
        by_ratio = crop_clip(clip, ratios, clip_model, threads, extra_models=extra, with_teacher=with_teacher)
        points = clip.all_points()
        for r, cr in by_ratio.items():
            res.cuts[clip.name] = cr.detected_cuts
            per = res.per_clip.setdefault(r, {}).setdefault(clip.name, {})
            for method, windows in cr.windows.items():
                args = dict(modes=cr.engine_modes.get(method), mode_cuts=cr.engine_cuts.get(method, ()))
                # Jitter is measured within the detected shots (hevc-gaze lists no cuts; only the slide clips have
                # changes of picture, which the detector finds).
                res.scores.setdefault(r, {}).setdefault(method, MethodScore()).add_windows(
                    windows, points, cr.detected_cuts, clip.width, **args)
                if clip.camera_moves:
                    res.moving.setdefault(r, {}).setdefault(method, MethodScore()).add_windows(
                        windows, points, cr.detected_cuts, clip.width, **args)
                kept, counted = fixations_kept(windows, points)
                per[method] = kept / counted
        log(f"{clip.name}: {clip.frames} frames, cuts {res.cuts[clip.name]}, "
            f"{time.perf_counter() - t0:.1f} s")
    res.seconds = time.perf_counter() - t_all
    return res


def _clip_mean(per_clip: dict[str, dict[str, float]], method: str) -> float:
    return float(np.mean([v[method] for v in per_clip.values()]))


def render_markdown(res: RealVideoResults) -> list[str]:
    """The real-video section of EVALUATION.md: a table per ratio, then the per-clip table of the first ratio."""
    lines: list[str] = []
    for r, scores in res.scores.items():
        moving = res.moving.get(r, {})
        lines += ["", f"#### Ratio {r}", "",
                  "| method | fixations kept | mean over clips | clips whose camera moves | jitter px/frame "
                  "| jitter px/frame² | jitter ‰ of width (Δ, Δ²) | shot modes (frames) |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        for name in METHODS:
            s = scores.get(name)
            if s is None:
                continue
            m = moving.get(name)
            modes = ", ".join(f"{k} {100 * c / sum(s.mode_frames.values()):.0f}%"
                              for k, c in sorted(s.mode_frames.items())) if s.mode_frames else ""
            lines.append(f"| {name} | {_pct(s.kept)} | {_pct(_clip_mean(res.per_clip[r], name))} | "
                         f"{_pct(m.kept) if m else 'n/a'} | {_num(s.jitter1)} | {_num(s.jitter2)} | "
                         f"{_num(1000 * s.jitter1_width)}, {_num(1000 * s.jitter2_width)} | {modes} |")
    if res.per_clip:
        r = next(iter(res.per_clip))
        moving_names = {c.name for c in res.clips if c.camera_moves}
        methods = [m for m in METHODS if m in next(iter(res.per_clip[r].values()))]
        lines += ["", f"#### Per clip at {r} (fixations kept; the last column is the Engine minus the centre crop)",
                  "", "| clip | fold | camera | " + " | ".join(methods) + " | Engine − centre |",
                  "|---|---:|---|" + "---:|" * (len(methods) + 1)]
        for name, per in res.per_clip[r].items():
            diff = per[ENGINE] - per[CENTRE]
            lines.append(f"| {name} | {video_gaze.fold_of(name) + 1} | "
                         f"{'moves' if name in moving_names else 'still'} | "
                         + " | ".join(_pct(per[m]) for m in methods) + f" | {100 * diff:+.1f} |")
        for engine in (m for m in (ENGINE, ENGINE_LARGE) if m in methods):
            worst = min(res.per_clip[r].items(), key=lambda kv: kv[1][engine] - kv[1][CENTRE])
            below = sum(1 for per in res.per_clip[r].values() if per[engine] - per[CENTRE] < -0.02)
            lines += ["", f"{engine} − centre at {r}: "
                      f"{100 * (res.scores[r][engine].kept - res.scores[r][CENTRE].kept):+.1f} points frame-weighted, "
                      f"{100 * (_clip_mean(res.per_clip[r], engine) - _clip_mean(res.per_clip[r], CENTRE)):+.1f} "
                      f"averaged over clips; worst clip {worst[0]} {100 * (worst[1][engine] - worst[1][CENTRE]):+.1f}; "
                      f"{below} clips more than 2 points below the centre crop."]
    return lines
