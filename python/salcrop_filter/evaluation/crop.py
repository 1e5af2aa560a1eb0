"""Crop quality of salcrop against baselines, measured with real human fixations.

The clips are the model engineer's virtual-camera sequences (:mod:`salcrop_filter.training.virtual_camera`) built
from the *held-out* eye-tracking images: a virtual camera moves over a still photograph (or holds still), cuts
to another, and the photograph's recorded human fixations move with the content. Each method picks one window
per frame at the target ratio; we count how many of the fixations visible in the frame fall inside it and how
the window moves. Salcrop runs through the real core (``_core.Engine``, ``SaliencyRunner``, ``ShotDetector``,
``plan_path``), never a re-implementation. :data:`PROTOCOL` (the head of EVALUATION.md) defines the clips,
methods and metrics.

Run ``python -m salcrop_filter.crop_eval [--subset N] [--ratios 9:16,4:5,1:1,1:3] [--out EVALUATION.md]``.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from salcrop_filter import commands
from salcrop_filter.checksums import file_sha256
from salcrop_filter.evaluation import baselines
from salcrop_filter.evaluation.crop_metrics import (MethodScore, _num, _pct, _shot_ranges, centre_jitter,
                                                   fixations_kept, moving_share, oracle_windows)

__all__ = [
    "EvalClip", "MethodScore", "fixations_kept", "centre_jitter", "moving_share", "oracle_windows",
    "ClipPrediction", "predict_clip", "evaluate_clip", "CutStats", "evaluate", "iter_clips", "load_clips",
    "clip_count", "render_markdown", "main",
]

SALCROP_MODES = ("auto", "stationary", "pan", "track")
ENGINE_METHOD = "salcrop auto (Engine)"
METHODS = (ENGINE_METHOD, *(f"salcrop {m}" for m in SALCROP_MODES), "saliency argmax", "centre", "face", "oracle")
DEFAULT_RATIOS = ("9:16", "4:5", "1:1", "1:3")
#: Clips are 16:9 frames of 640x360 at 25 fps; each of their two shots lasts 1.6 to 2.4 s.
CLIP_SIZE = (360, 640)
CLIP_FPS = 25.0
SHOT_FRAMES = (40, 60)


@dataclass
class EvalClip:
    """One evaluation clip: rendered frames with the human fixations that move with them.

    Attributes:
        name: where it came from (image and camera script), for the report.
        frames: ``T x H x W x 3`` uint8 RGB.
        fixations: per frame, an ``n x 2`` float array of (x, y) fixations in frame pixels,
            only those that fall inside the frame.
        cuts: true shot starts (frame indices, 0 excluded).
        camera_still: ``T`` bools; True on the frames of a still-camera shot (the picture does not move).
        fps: frame rate.
    """

    name: str
    frames: np.ndarray
    fixations: list[np.ndarray]
    cuts: list[int]
    camera_still: np.ndarray
    fps: float


# ------------------------------------------------------------------------------------------ the methods

@dataclass
class ClipPrediction:
    """What the core says about one clip, independent of the ratio: maps, detected cuts, face centres."""

    maps: np.ndarray
    cuts: list[int]
    faces: list[tuple[float, float] | None]


def predict_clip(clip: EvalClip, runner, shot_threshold: float | None,
                 face: baselines.FaceFollower | None) -> ClipPrediction:
    """Runs the core's shot detector and saliency model over the clip (state reset at each detected cut)."""
    from salcrop_filter import _core

    detector = _core.ShotDetector(fps=clip.fps) if shot_threshold is None else \
        _core.ShotDetector(threshold=shot_threshold, fps=clip.fps)
    for f in clip.frames:
        detector.push_rgb(f)
    cuts = sorted(int(c) for c in detector.flush())
    maps = [runner.predict(np.ascontiguousarray(clip.frames[a:b]), reset=True)
            for a, b in _shot_ranges(len(clip.frames), cuts)]
    faces = face.face_centres(clip.frames) if face is not None else []
    return ClipPrediction(np.concatenate(maps, axis=0), cuts, faces)


def engine_windows(clip: EvalClip, ratio: str, model: str, threads: int, **engine_options) -> tuple[np.ndarray, list[str], list[int]]:
    """The real streaming path: every frame pushed through ``_core.Engine``; windows, modes, shot starts."""
    from salcrop_filter import _core

    height, width = clip.frames.shape[1:3]
    engine = _core.Engine(width, height, clip.fps, ratio=ratio, model=model, device="cpu", threads=threads,
                          **engine_options)
    decisions = []
    for i, f in enumerate(clip.frames):
        engine.push_rgb(np.ascontiguousarray(f), i / clip.fps)
        decisions.extend(engine.pop())
    decisions.extend(engine.flush())
    if [d.frame for d in decisions] != list(range(len(clip.frames))):
        raise RuntimeError(f"{clip.name}: the engine's decisions are not one per frame in order")
    windows = np.array([[d.x, d.y, d.w, d.h] for d in decisions], dtype=np.int32)
    shots = [d.shot for d in decisions]
    starts = [i for i in range(1, len(shots)) if shots[i] != shots[i - 1]]
    return windows, [d.mode for d in decisions], starts


def _modes_per_frame(n: int, shots: Sequence[tuple[int, int, str]]) -> tuple[list[str], list[int]]:
    modes = [""] * n
    for a, b, m in shots:
        modes[a:b] = [m] * (b - a)
    if "" in modes:
        raise RuntimeError("plan_path's shots do not cover every frame")
    return modes, [a for a, _, _ in shots if a > 0]


def evaluate_clip(clip: EvalClip, pred: ClipPrediction, ratio: str, scores: dict[str, MethodScore],
                  model: str = "", threads: int = 2, engine: bool = True,
                  engine_strides: Sequence[int] = ()) -> None:
    """Adds every method's result on one clip at one ratio into ``scores`` (keyed by method name)."""
    from salcrop_filter import _core

    height, width = clip.frames.shape[1:3]
    win_size: tuple[int, int] | None = None
    for mode in SALCROP_MODES:
        t0 = time.perf_counter()
        windows, shots = _core.plan_path(pred.maps, pred.cuts, width, height, clip.fps, ratio=ratio, mode=mode)
        windows = np.asarray(windows, dtype=np.int32)
        modes, starts = _modes_per_frame(len(windows), shots)
        name = f"salcrop {mode}"
        scores.setdefault(name, MethodScore()).add(clip, windows, modes, starts)
        scores[name].seconds += time.perf_counter() - t0
        if mode == "auto":
            # Baselines get exactly salcrop's window size (the largest window of the ratio).
            win_size = (int(windows[:, 2].max()), int(windows[:, 3].max()))
    assert win_size is not None
    ww, wh = win_size

    if engine:
        t0 = time.perf_counter()
        windows, modes, starts = engine_windows(clip, ratio, model, threads)
        scores.setdefault(ENGINE_METHOD, MethodScore()).add(clip, windows, modes, starts)
        scores[ENGINE_METHOD].seconds += time.perf_counter() - t0
    for stride in engine_strides:  # the same streaming path at other strides: what the model's sparsity costs
        name = f"{ENGINE_METHOD[:-1]}, stride {stride})"
        t0 = time.perf_counter()
        windows, modes, starts = engine_windows(clip, ratio, model, threads, stride=stride)
        scores.setdefault(name, MethodScore()).add(clip, windows, modes, starts)
        scores[name].seconds += time.perf_counter() - t0

    n = len(clip.frames)
    scores.setdefault("saliency argmax", MethodScore()).add(
        clip, baselines.argmax_windows(pred.maps, width, height, ww, wh))
    scores.setdefault("centre", MethodScore()).add(clip, baselines.centre_windows(n, width, height, ww, wh))
    if pred.faces:
        scores.setdefault("face", MethodScore()).add(
            clip, baselines.FaceFollower.windows_from_centres(pred.faces, width, height, ww, wh))
    scores.setdefault("oracle", MethodScore()).add(clip, oracle_windows(clip.fixations, width, height, ww, wh))


# ------------------------------------------------------------------------------------------ the clips

def _to_uint8(frame) -> np.ndarray:
    """A rendered ``[3, H, W]`` float frame in [0, 1] as ``H x W x 3`` uint8."""
    arr = frame.detach().cpu().numpy() if hasattr(frame, "detach") else np.asarray(frame)
    return np.ascontiguousarray((np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0))


def held_out_stimuli():
    """The held-out images of the fixed split (``models/split.json``'s rule, :func:`datasets.split`)."""
    from salcrop_filter.training import datasets

    _, test = datasets.split(datasets.load_all())
    return test


def make_clip(rng: np.random.Generator, stimuli, index: int, fps: float = CLIP_FPS,
              out_hw: tuple[int, int] = CLIP_SIZE) -> EvalClip:
    """One clip: two shots on two different held-out images, one filmed by a still camera and one by the moving
    virtual camera (pan, zoom, shake), in random order, with a hard cut between them.

    The moving shot is :func:`virtual_camera.camera_sequence` without its own cut; the still shot is one
    :func:`virtual_camera.random_view` held for the whole shot (a camera on a tripod).
    """
    from salcrop_filter.training import virtual_camera

    frames: list[np.ndarray] = []
    fixations: list[np.ndarray] = []
    still: list[bool] = []
    kinds = ["still", "moving"] if rng.random() < 0.5 else ["moving", "still"]
    parts = []
    starts = []
    for stim, kind in zip(stimuli, kinds):
        n = int(rng.integers(SHOT_FRAMES[0], SHOT_FRAMES[1] + 1))
        starts.append(len(frames))
        if kind == "still":
            view = virtual_camera.random_view(rng, stim, out_hw)
            views = [view] * n
        else:
            views = virtual_camera.camera_sequence(rng, [stim], n, out_hw, cut_probability=0.0)
        still += [kind == "still"] * n
        for v in views:
            frames.append(_to_uint8(v.frame))
            fixations.append(np.asarray(v.points, dtype=np.float64).reshape(-1, 2))
        parts.append(f"{stim.key} {kind} {n}")
    return EvalClip(name=f"clip{index:03d} [" + " | ".join(parts) + "]", frames=np.stack(frames),
                    fixations=fixations, cuts=starts[1:], camera_still=np.array(still),
                    fps=fps)


def clip_count(subset: int | None = None) -> int:
    """How many clips :func:`iter_clips` yields: two held-out images per clip, at most ``subset``."""
    from salcrop_filter.training import datasets

    n = sum(datasets.HELD_OUT.values()) // 2
    return n if subset is None else min(n, subset)


def iter_clips(subset: int | None = None, seed: int = 0) -> Iterator[EvalClip]:
    """The held-out virtual-camera clips, rendered one at a time (all of them at once would take gigabytes).

    Each held-out image is used once, two images per clip. Deterministic for a given ``seed``; ``subset`` keeps
    the first N clips (the same N clips for every caller).
    """
    test = held_out_stimuli()
    order = np.random.default_rng(seed).permutation(len(test))
    for k in range(min(clip_count(subset), len(test) // 2)):
        rng = np.random.default_rng([seed, k])
        yield make_clip(rng, [test[order[2 * k]], test[order[2 * k + 1]]], k)


def load_clips(subset: int | None = None, seed: int = 0) -> list[EvalClip]:
    """The first ``subset`` clips of :func:`iter_clips` as a list (for small subsets: ~70 MB per clip)."""
    return list(iter_clips(subset, seed))


# ----------------------------------------------------------------------------------------- the report

def machine_line() -> str:
    """CPU model and core count as lscpu reports them, plus the kernel and Python (for reports)."""
    model = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if m:
            model = m.group(1).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"{model}, {os.cpu_count()} logical cores, Linux {platform.release()}, Python {platform.python_version()}"


def render_markdown(results: dict[str, dict[str, MethodScore]], header: Sequence[str]) -> str:
    """The evaluation report: a header block, then one table per ratio."""
    lines = list(header)
    for ratio, scores in results.items():
        lines += ["", f"#### Ratio {ratio}", "",
                  "| method | fixations kept | jitter px/frame | jitter px/frame² | still-camera frames moving "
                  "| salcrop-stationary frames moving | shot modes (frames) |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        extra = [n for n in scores if n not in METHODS]
        for name in (*METHODS[:1], *extra, *METHODS[1:]):
            s = scores.get(name)
            if s is None:
                continue
            modes = ", ".join(f"{m} {100 * c / sum(s.mode_frames.values()):.0f}%"
                              for m, c in sorted(s.mode_frames.items())) if s.mode_frames else ""
            stat = _pct(s.stationary_moving) if s.mode_frames else ""
            lines.append(f"| {name} | {_pct(s.kept)} | {_num(s.jitter1)} | {_num(s.jitter2)} | "
                         f"{_pct(s.still_moving)} | {stat} | {modes} |")
    return "\n".join(lines) + "\n"


@dataclass
class CutStats:
    """How the core's shot detector did against the true cuts (a detected cut within 1 frame counts),
    and what the clips held."""

    true_cuts: int = 0
    found: int = 0
    false: int = 0
    clips: int = 0
    frames: int = 0
    fixations: int = 0

    def add(self, truth: Sequence[int], detected: Sequence[int]) -> None:
        self.true_cuts += len(truth)
        hit = [any(abs(d - t) <= 1 for d in detected) for t in truth]
        self.found += sum(hit)
        self.false += sum(1 for d in detected if all(abs(d - t) > 1 for t in truth))


def evaluate(clips: Iterable[EvalClip], ratios: Sequence[str], model: str = "", threads: int = 2,
             engine: bool = True, faces: bool = True, log=print, engine_strides: Sequence[int] = (),
             cut_stats: CutStats | None = None) -> dict[str, dict[str, MethodScore]]:
    """Every method on every clip at every ratio; ``{ratio: {method: MethodScore}}``."""
    from salcrop_filter import _core

    runner = _core.SaliencyRunner(model=model, device="cpu", threads=threads)
    face = baselines.FaceFollower() if faces else None
    results: dict[str, dict[str, MethodScore]] = {r: {} for r in ratios}
    for k, clip in enumerate(clips):
        t0 = time.perf_counter()
        pred = predict_clip(clip, runner, None, face)
        if cut_stats is not None:
            cut_stats.add(clip.cuts, pred.cuts)
            cut_stats.clips += 1
            cut_stats.frames += len(clip.frames)
            cut_stats.fixations += sum(len(f) for f in clip.fixations)
        for ratio in ratios:
            evaluate_clip(clip, pred, ratio, results[ratio], model=model, threads=threads, engine=engine,
                          engine_strides=engine_strides)
        log(f"[{k + 1}] {clip.name}: cuts true {clip.cuts} detected {pred.cuts}, "
            f"{time.perf_counter() - t0:.1f} s")
    return results


PROTOCOL_HEAD = """# Crop quality: salcrop against baselines, with real human fixations

Written by `python -m salcrop_filter.crop_eval --out EVALUATION.md`: first real video with real gaze (what users
watch), then still photographs under a virtual camera (a second opinion). Each part's *Results* names the machine,
the model (by sha256) and the Python environment it ran in.
"""

REAL_VIDEO_PROTOCOL = """## Part 1: real video with real gaze (hevc-gaze)

21 real clips (HEVC test sequences: sports, crowds, talking heads, screen content, traffic; 416x240 to 1920x1080,
20-60 fps, 5-10 s) watched by 32 viewers each, free viewing (`../shared/data/hevc-gaze`, SOURCES.md there; loader
`salcrop_filter.training.video_gaze`). A fixation counts on every frame its interval covers (~28 per frame). Every
frame is decoded and pushed through one `_core.Engine` per ratio (the product: the same C++ engine as the FFmpeg
filter, its defaults, the CPU). Methods, all at the Engine's window size (the largest window of the ratio):
- **salcrop (Engine)**: the product. With `--fold-models` each clip is cropped by the model trained without its
  fold (`video_gaze.FOLDS`, three folds of seven clips): held out. Otherwise one model for all clips.
- **salcrop, large model (Engine)** (with `--large-fold-models`): the same with the large model
  (`models/salcrop-large.onnx`, 224x400 input, CUDA's default), its own fold models, on the CPU.
- **planner on the teacher's maps** (with `--teacher`): the core's planner fed the video teacher's maps (UNISAL,
  `training/teacher.py`; each frame gets the map of its latest sampled frame): the bar for a student distilled
  from it. The teacher is trained on other data sets, so every clip is held out for it.
- **planner on the viewers' gaze**: the core's planner (`_core.plan_path`) fed every frame's recorded fixation
  density (64 cells across, Gaussian of 3.5% of the width) instead of the model's maps, with the shot detector's
  cuts: the planner's ceiling with a perfect saliency model.
- **centre**: the static centre crop. **oracle**: per frame, the window holding the most fixations (a ceiling no
  steady camera reaches).
Metrics: **fixations kept**, the share of a frame's fixations inside the window, frames weighted equally (and the
mean of the per-clip shares; and over the three clips whose camera moves: BQMall, BasketballPass, BQTerrace);
**jitter**, mean |Δ| and |Δ²| of the window centre within shots, in px/frame and in thousandths of the frame width.
"""

PROTOCOL = """## Part 2: still photographs under a virtual camera

The face baseline needs OpenCV 4.x (`opencv-python-headless<5`): OpenCV 5 has no Haar cascades, and the run then
says the row was skipped.

### Clips
Held-out images only (the fixed split of `salcrop_filter.training.datasets`, `models/split.json`: 100 OSIE + 70
NUS-Scene images the model never saw in training). Each clip uses two of them, each image once: two shots of
1.6-2.4 s at 25 fps, 640x360 (16:9), joined by a hard cut. One shot is the model engineer's moving virtual
camera (`virtual_camera.camera_sequence`: pan, zoom, hand-held shake), the other a still camera (one
`virtual_camera.random_view` held for the whole shot), in random order. The images' recorded human
fixations (all viewers) are moved with the content, so every frame carries the fixations visible in it.
Images come from the data cache at 320 px on the long side, so frames are upscaled and soft.

### Methods (same frames, same window size: the largest window of the ratio, as salcrop uses)
- **salcrop auto (Engine)**: the product. Every frame pushed through `_core.Engine` (the same C++ engine the
  FFmpeg filter runs) with its defaults: model every `stride`-th frame while the picture changes (every 0.5 s
  while it is still), shot detection, lookahead, planner.
- **salcrop auto / stationary / pan / track**: the core's planner (`_core.plan_path`) on saliency maps of every
  frame from `_core.SaliencyRunner` (temporal state reset at each detected cut) and cuts from
  `_core.ShotDetector`; the mode chosen per shot (auto) or forced.
- **saliency argmax**: each frame's window centred on that frame's saliency peak (the same maps), no smoothing.
- **centre**: the static centre crop (what `crop=w:h` does).
- **face**: the largest frontal face of OpenCV's Haar cascade (`haarcascade_frontalface_default`), centre crop
  when no face is found.
- **oracle**: per frame, the window holding the most fixations. It sees the answer: a ceiling, not a method.

### Metrics (frame-weighted over all clips)
- **fixations kept**: share of the frame's visible fixations inside the window, averaged over frames with any.
- **jitter**: mean |Δ centre| (px/frame) and mean |Δ² centre| (px/frame²) of the window centre, within the true
  shots (the jump at a cut is not jitter).
- **still-camera frames moving**: within the still-camera shots (nothing moves in the picture), share of frames
  on which the window moves. A steady reframer shows 0.
- **salcrop-stationary frames moving**: within the shots salcrop itself films as `stationary`, share of frames
  on which its window moves. Must be 0 (the stationary mode promises one window per shot).
- **shot modes**: how salcrop filmed the frames.
"""


def main(argv: list[str] | None = None) -> int:
    ap = commands.parser(
        "crop-eval", "Crop quality of salcrop against baselines on held-out virtual-camera clips with real human "
        "fixations.", "example (two held-out clips, one ratio):\n  salcrop crop-eval --subset 2 --ratios 9:16",
        alias="crop_eval")
    ap.add_argument("--subset", type=int, default=None, help="use only the first N held-out clips")
    ap.add_argument("--ratios", default=",".join(DEFAULT_RATIOS), help="comma-separated target ratios")
    ap.add_argument("--model", default="", help="ONNX model; empty = the core's default")
    ap.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads")
    ap.add_argument("--seed", type=int, default=0, help="virtual-camera seed")
    ap.add_argument("--no-engine", action="store_true", help="skip the streaming Engine row (faster)")
    ap.add_argument("--engine-strides", default="",
                    help="also run the Engine at these strides, e.g. 1,6 (rows 'salcrop auto (Engine, stride N)')")
    ap.add_argument("--no-faces", action="store_true", help="skip the face-following baseline")
    ap.add_argument("--out", type=Path, default=None, help="write the markdown report here")
    ap.add_argument("--real-video", action="store_true",
                    help="only the real-video table (hevc-gaze), not the virtual-camera one")
    ap.add_argument("--no-real-video", action="store_true", help="only the virtual-camera table")
    ap.add_argument("--clips", default="", help="real video: only these hevc-gaze clips (comma-separated)")
    ap.add_argument("--fold-models", default="",
                    help="real video: one model per fold (comma-separated, in training.video_gaze.FOLDS order); "
                         "each clip is cropped by the model trained without it")
    ap.add_argument("--large-fold-models", default="",
                    help="real video: the large model's fold models (same order), scored as an extra Engine row")
    ap.add_argument("--teacher", action="store_true",
                    help="real video: also plan the video teacher's maps (cached per clip; ~25 min once if not)")
    ap.add_argument("--no-planner-table", action="store_true",
                    help="real video: skip the planner's per-clip table (path vs best static window vs smooth oracle)")
    ap.add_argument("--planner-cache", type=Path, default=None,
                    help="real video: cache the planner table's model maps here (one npz per clip)")
    ap.add_argument("--corpus", action="store_true",
                    help="also the kept-out unlabeled corpus: the model's windows against the teacher's, per clip, "
                         "at the first ratio (evaluation/crop_corpus.py; teacher maps cached, ~1 h once if not)")
    ap.add_argument("--corpus-sheets", type=Path, default=None,
                    help="with --corpus: contact sheets of the 4 clips where model and teacher disagree most")
    args = ap.parse_args(argv)
    if args.real_video and args.no_real_video:
        ap.error("--real-video and --no-real-video exclude each other")
    fold_models = [m.strip() for m in args.fold_models.split(",") if m.strip()] or None
    large_fold_models = [m.strip() for m in args.large_fold_models.split(",") if m.strip()] or None
    from salcrop_filter.training.video_gaze import FOLDS

    for flag, models in (("--fold-models", fold_models), ("--large-fold-models", large_fold_models)):
        if models is not None and len(models) != len(FOLDS):
            ap.error(f"{flag} needs {len(FOLDS)} models, one per fold, got {len(models)}")
        for m in models or ():
            if not os.path.isfile(m):
                ap.error(f"{flag}: {m} does not exist")

    from salcrop_filter import _core

    ratios = [r.strip() for r in args.ratios.split(",") if r.strip()]
    for r in ratios:
        _core.parse_ratio(r)  # fail on a bad ratio before the long run
    faces = not args.no_faces
    notes = []
    if faces:
        try:
            baselines.FaceFollower()
        except RuntimeError as e:  # e.g. OpenCV 5, which has no Haar cascades: report it, run the rest
            faces = False
            notes.append(f"- Face baseline skipped: {e}")
    command = "python -m salcrop_filter.crop_eval " + shlex.join(argv if argv is not None else sys.argv[1:])
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    runner = _core.SaliencyRunner(model=args.model, device="cpu", threads=1)
    model_path = runner.path  # the file behind a model name (model=teacher) or the default
    meta = runner.metadata
    model_line = (f"model `{_display_path(model_path)}` (sha256 {file_sha256(model_path)[:16]}..., trained "
                  f"{meta.get('trained', '?')}, input {runner.input_size[1]}x{runner.input_size[0]})")
    fold_line = ("models per fold, each clip cropped by the one trained without it: "
                 + ", ".join(f"`{_display_path(m)}` (sha256 {file_sha256(m)[:16]}...)" for m in fold_models)
                 ) if fold_models else model_line
    if large_fold_models:
        fold_line += ("; the large model's, one per fold: "
                      + ", ".join(f"`{_display_path(m)}` (sha256 {file_sha256(m)[:16]}...)" for m in large_fold_models))
    common = [
        f"- Date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine_line()}, CPU only",
        f"- Core {_core.version()}; Engine defaults: {_engine_defaults(args.model)}",
        f"- Environment: {_environment()}",
    ]
    sections = [PROTOCOL_HEAD]
    t_all = time.perf_counter()
    if not args.no_real_video:
        from salcrop_filter.evaluation import crop_video
        from salcrop_filter.training import video_gaze

        names = [c.strip() for c in args.clips.split(",") if c.strip()] or None
        gaze_clips = video_gaze.load_clips(names=names)
        real = crop_video.evaluate(gaze_clips, ratios, model=args.model, fold_models=fold_models,
                                   threads=args.threads, log=log, large_fold_models=large_fold_models,
                                   with_teacher=args.teacher)
        planner_lines: list[str] = []
        if not args.no_planner_table:
            from salcrop_filter.evaluation import plan_mass

            t_plan = time.perf_counter()
            per_model = fold_models or [model_path] * len(FOLDS)
            per_clip, _, kinds = plan_mass.evaluate(gaze_clips, ratios, per_model, cache=args.planner_cache,
                                                    teacher=args.teacher, log=log)
            planner_lines = [
                "", "### The planner per clip: path, best static window, smooth oracle (leads)", "",
                "The core's planner (`_core.plan_path`, defaults) fed each kind of map (the model's: every third frame, "
                "linear in between, as the Engine samples; the viewers' gaze), scored against the best static window "
                "under the same map (one window for the clip, the most mean mass), the smooth oracle (the planner fed "
                "the viewers' gaze at smoothing 0) and the centre crop; the map's own mass kept by the path and by the "
                "best static window (the planner's floor); jitter of the path's centre in ‰ of the frame per frame "
                f"(`salcrop_filter.evaluation.plan_mass`; {(time.perf_counter() - t_plan) / 60:.1f} min).",
                *plan_mass.render(per_clip, kinds)]
        found = {n: c for n, c in real.cuts.items() if c}
        sections += [REAL_VIDEO_PROTOCOL, "### Results on real video", "", *common,
                     f"- {fold_line}",
                     f"- {len(gaze_clips)} clips, {sum(c.frames for c in gaze_clips)} frames, "
                     f"{sum(sum(len(p) for p in c.all_points()) for c in gaze_clips)} fixation-frames "
                     f"({real.seconds / 60:.1f} min)",
                     f"- Shot detector: cuts found in {', '.join(f'{n} {c}' for n, c in found.items()) or 'no clip'} "
                     "(the clips are single shots but for the slide changes of SlideEditing and SlideShow)",
                     *planner_lines, "", "### The product (Engine) and the baselines", "",
                     *crop_video.render_markdown(real), ""]
    if args.corpus:
        from salcrop_filter.evaluation import crop_corpus
        from salcrop_filter.training import corpus

        _, kept = corpus.split(corpus.load_clips())
        agreement = crop_corpus.evaluate(kept, model_path, ratios[0], threads=1, compute_teacher=True, log=log)
        sections += [crop_corpus.CORPUS_PROTOCOL, "### Results on the kept-out corpus", "", *common,
                     f"- {model_line}", "",
                     *crop_corpus.render_markdown(agreement, _display_path(model_path), ratios[0]), ""]
        if args.corpus_sheets:
            for path in crop_corpus.write_sheets(agreement, args.corpus_sheets, 4):
                log(f"contact sheet {path}")
    if not args.real_video:
        t0 = time.perf_counter()
        clips = iter_clips(args.subset, args.seed)
        cuts = CutStats()
        results = evaluate(clips, ratios, model=args.model, threads=args.threads,
                           engine=not args.no_engine, faces=faces, cut_stats=cuts,
                           engine_strides=[int(v) for v in args.engine_strides.split(",") if v.strip()],
                           log=log)
        elapsed = time.perf_counter() - t0
        header = [
            PROTOCOL,
            "### Results on virtual-camera clips",
            "",
            *common,
            f"- {model_line} ({elapsed / 60:.1f} min)",
            f"- {cuts.clips} held-out clips (seed {args.seed}), {cuts.frames} frames, {cuts.fixations} visible "
            "fixations in all",
            f"- Shot detector on the clips: {cuts.found} of {cuts.true_cuts} true cuts found (within 1 frame), "
            f"{cuts.false} false cuts",
            *notes,
        ]
        sections.append(render_markdown(results, header))
    sections.insert(1, f"Command: `{command}` ({(time.perf_counter() - t_all) / 60:.1f} min wall)\n")
    report = "\n".join(sections)
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


def _environment() -> str:
    """Versions of what the numbers depend on, and where the core module was loaded from."""
    from importlib.metadata import version

    import cv2

    from salcrop_filter import _core

    return (f"numpy {np.__version__}, OpenCV {cv2.__version__}, onnxruntime {version('onnxruntime')}; "
            f"`_core` from `{_display_path(_core.__file__)}`")


def _display_path(path: str) -> str:
    """A path relative to the repository root when it lies inside it."""
    from salcrop_filter.training import datasets

    root = str(datasets.repo_root())
    return os.path.relpath(path, root) if os.path.abspath(path).startswith(root + os.sep) else path


def _engine_defaults(model: str) -> str:
    """The Engine's default settings, as its own describe() line states them (stride, lookahead, ...)."""
    from salcrop_filter import _core

    h, w = CLIP_SIZE
    line = _core.Engine(w, h, CLIP_FPS, model=model, device="cpu").describe()
    m = re.search(r"stride \d+.*$", line)
    return m.group(0) if m else line


if __name__ == "__main__":
    sys.exit(main())
