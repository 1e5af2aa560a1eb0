"""Does the student crop where the teacher would? Window agreement on the kept-out unlabeled corpus, clip by clip.

For each kept-out clip of :mod:`salcrop_filter.training.corpus` (never trained or tuned on), over the frames the
teacher mapped (its first ~5 s):

- the **student's window**: what a user gets, the real core's ``_core.Engine`` with the model under test (its
  defaults: every 3rd frame through the model, the streaming planner, its own shot detector);
- the **teacher's window**: the same planner (``_core.plan_path``, the Engine's lookahead) fed the teacher's maps
  (UNISAL, :mod:`salcrop_filter.training.teacher`; each frame takes its latest sampled frame's map), with the cuts
  of the core's shot detector;
- **mass kept**: the share of the teacher's map inside the student's window, summed over frames, relative to the
  same for the teacher's own window (100% = the student's crop holds as much of what the teacher finds salient as
  the teacher's crop; it can exceed 100%, as the planner does not maximise mass alone). The centre crop's row gives
  the floor a model must beat;
- **centre distance**: mean distance between the two windows' centres, in ‰ of the frame's width.

The per-clip table leads, worst clip first; the mean is under it. Contact sheets of the clips where the two
disagree most (``--sheets DIR``): frames with the teacher's map, the teacher's window (green), the student's (red)
and the centre crop (white, thin).

``python -m salcrop_filter.evaluation.crop_corpus [--model models/salcrop-int8.onnx] [--ratio 9:16] [--out F.md]
[--sheets DIR] [--worst 4] [--compute-teacher]``
"""

from __future__ import annotations

import argparse
import pathlib
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from salcrop_filter.evaluation import baselines
from salcrop_filter.training import corpus

CORPUS_PROTOCOL = """## Part 3: the kept-out unlabeled corpus, the model's windows against the teacher's

No gaze here: 37 real clips from 22 source repositories that no model was trained or tuned on
(`training/corpus.py`), each scored over the frames the video teacher (UNISAL) mapped (its first ~5 s). The model's
window is the Engine's (what a user gets); the teacher's is the same planner (`plan_path`) fed the teacher's maps.
**Mass kept** is the share of the teacher's map inside the model's window relative to inside the teacher's own
window (100%: the model crops what the teacher would; the centre crop's column is the floor); **centre distance** is
the mean distance between the two windows' centres in per mille of the frame's width. Clips are sorted worst first.
Targets: mean at least 97%, no clip below 85%.
"""
#: Thumbnails kept for the contact sheets (width in pixels).
SHEET_WIDTH = 240
SHEET_ROWS = 6


@dataclass
class ClipAgreement:
    """One clip's scores (see the module docstring) and what the contact sheet draws."""

    name: str
    category: str
    frames: int
    mass_teacher: float  # mean share of the teacher's map inside the teacher's window
    mass_student: float  # ... inside the student's window
    mass_centre: float  # ... inside the centre crop
    centre_distance: float  # mean window-centre distance, per mille of the width
    seconds: float = 0.0
    thumbs: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    windows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    maps: np.ndarray | None = field(default=None, repr=False)
    size: tuple[int, int] = (0, 0)  # width, height

    @property
    def kept(self) -> float:
        """Mass in the student's window relative to the teacher's own."""
        return self.mass_student / self.mass_teacher if self.mass_teacher > 0 else float("nan")

    @property
    def centre_kept(self) -> float:
        return self.mass_centre / self.mass_teacher if self.mass_teacher > 0 else float("nan")


def window_mass(maps: np.ndarray, windows: np.ndarray, width: int, height: int) -> np.ndarray:
    """Per frame, the share of the map (``T x h x w``, any resolution, each summing to 1) inside the window
    ``(x, y, w, h)`` in source pixels; cells the window's edge crosses count by the fraction it covers."""
    t, h, w = maps.shape
    xe = np.linspace(0.0, width, w + 1)
    ye = np.linspace(0.0, height, h + 1)
    out = np.empty(t)
    for i in range(t):
        x0, y0, ww, wh = (float(v) for v in windows[i])
        cx = np.clip(np.minimum(x0 + ww, xe[1:]) - np.maximum(x0, xe[:-1]), 0, None) / np.diff(xe)
        cy = np.clip(np.minimum(y0 + wh, ye[1:]) - np.maximum(y0, ye[:-1]), 0, None) / np.diff(ye)
        m = maps[i]
        out[i] = float(cy @ m @ cx) / max(float(m.sum()), 1e-12)
    return out


def _centres(windows: np.ndarray) -> np.ndarray:
    return windows[:, :2].astype(np.float64) + windows[:, 2:4] / 2.0


def evaluate_clip(clip: corpus.CorpusClip, model: str, ratio: str = "9:16", threads: int = 1,
                  compute_teacher: bool = False, sheet_frames: int = SHEET_ROWS) -> ClipAgreement:
    """Scores one clip (see the module docstring); the teacher's maps must be cached unless ``compute_teacher``."""
    import cv2

    from salcrop_filter import _core
    from salcrop_filter.training import teacher

    t0 = time.perf_counter()
    tm = corpus.teacher_maps(clip, compute=compute_teacher)
    if tm is None:
        raise FileNotFoundError(f"{clip.name}: the teacher's maps are not cached; run python -m "
                                "salcrop_filter.training.corpus --teacher --part kept-out (or pass --compute-teacher)")
    limit = tm.end if tm.end is not None else 1 << 30
    detector = _core.ShotDetector(fps=clip.fps)
    engine = None
    decisions: list = []
    thumbs: dict[int, np.ndarray] = {}
    n = 0
    with teacher.open_video(clip.path) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i >= limit:
                break
            rgb = frame.to_ndarray(format="rgb24")
            if engine is None:
                height, width = rgb.shape[:2]
                engine = _core.Engine(width, height, clip.fps, ratio=ratio, model=model, device="cpu",
                                      threads=threads)
            detector.push_rgb(rgb)
            engine.push_rgb(rgb, i / clip.fps)
            decisions.extend(engine.pop())
            th = max(1, round(SHEET_WIDTH * height / width))
            thumbs[i] = cv2.resize(rgb, (SHEET_WIDTH, th), interpolation=cv2.INTER_AREA)
            n = i + 1
    if engine is None:
        raise ValueError(f"{clip.path}: no frame decoded")
    decisions.extend(engine.flush())
    if [d.frame for d in decisions] != list(range(n)):
        raise RuntimeError(f"{clip.name}: the engine's decisions are not one per decoded frame ({len(decisions)}, {n})")
    cuts = sorted(int(c) for c in detector.flush())
    student = np.array([[d.x, d.y, d.w, d.h] for d in decisions], dtype=np.int32)
    maps = np.stack([tm.for_frame(i) for i in range(n)]).astype(np.float32)
    planned, _ = _core.plan_path(maps, cuts, width, height, clip.fps, ratio=ratio)
    teacher_w = np.asarray(planned, dtype=np.int32)
    ww, wh = int(student[:, 2].max()), int(student[:, 3].max())
    centre = baselines.centre_windows(n, width, height, ww, wh)
    dist = np.hypot(*(_centres(student) - _centres(teacher_w)).T)
    picks = [int(round(j)) for j in np.linspace(0, n - 1, min(sheet_frames, n))]
    return ClipAgreement(
        name=clip.name, category=clip.category, frames=n,
        mass_teacher=float(window_mass(maps, teacher_w, width, height).mean()),
        mass_student=float(window_mass(maps, student, width, height).mean()),
        mass_centre=float(window_mass(maps, centre, width, height).mean()),
        centre_distance=float(1000 * dist.mean() / width), seconds=time.perf_counter() - t0,
        thumbs={k: thumbs[k] for k in picks}, maps=maps[picks], size=(width, height),
        windows={"teacher": teacher_w[picks], "student": student[picks], "centre": centre[picks]})


def evaluate(clips: Sequence[corpus.CorpusClip], model: str, ratio: str = "9:16", threads: int = 1,
             compute_teacher: bool = False, log: Callable[[str], None] = print) -> list[ClipAgreement]:
    """:func:`evaluate_clip` for every clip, in order."""
    out = []
    for c in clips:
        r = evaluate_clip(c, model, ratio, threads, compute_teacher)
        log(f"{c.name}: {r.frames} frames, kept {100 * r.kept:.1f}%, centre distance {r.centre_distance:.0f}‰ "
            f"({r.seconds:.1f} s)")
        out.append(r)
    return out


def render_markdown(results: Sequence[ClipAgreement], model_label: str, ratio: str) -> list[str]:
    """The per-clip table (worst first), then the means and the clips below the targets."""
    rows = sorted(results, key=lambda r: r.kept)
    kept = np.array([r.kept for r in rows])
    lines = [f"Student: `{model_label}` through the Engine; teacher: UNISAL's maps through `plan_path`; ratio {ratio}; "
             f"{len(rows)} kept-out clips, {sum(r.frames for r in rows)} frames.", "",
             "| clip | category | frames | mass kept (student / teacher window) | centre crop / teacher window "
             "| centre distance ‰ of width |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.category} | {r.frames} | {100 * r.kept:.1f}% | {100 * r.centre_kept:.1f}% "
                     f"| {r.centre_distance:.0f} |")
    lines.append(f"| **mean over clips** | | | **{100 * kept.mean():.1f}%** | "
                 f"{100 * np.mean([r.centre_kept for r in rows]):.1f}% | "
                 f"{np.mean([r.centre_distance for r in rows]):.0f} |")
    below = [r.name for r in rows if r.kept < 0.85]
    lines += ["", f"Target: mean >= 97% ({'met' if kept.mean() >= 0.97 else 'missed'}: {100 * kept.mean():.1f}%), "
              f"no clip below 85% ({'met' if not below else 'missed: ' + ', '.join(below)}). "
              f"Student below the centre crop on {sum(r.kept < r.centre_kept for r in rows)} of {len(rows)} clips."]
    return lines


def contact_sheet(r: ClipAgreement) -> np.ndarray:
    """Rows of frames with the teacher's map; teacher window green, student red, centre crop white."""
    from PIL import Image, ImageDraw

    from salcrop_filter.evaluation.video_saliency import _overlay

    width, height = r.size
    rows = []
    for k, (i, th) in enumerate(sorted(r.thumbs.items())):
        s = th.shape[1] / width
        img = Image.fromarray(np.concatenate([th, _overlay(th, r.maps[k])], 1))
        draw = ImageDraw.Draw(img)
        for name, colour, wd in (("centre", (255, 255, 255), 1), ("teacher", (0, 230, 0), 3),
                                 ("student", (255, 40, 40), 2)):
            x, y, w, h = (float(v) * s for v in r.windows[name][k])
            for off in (0, th.shape[1]):
                draw.rectangle([x + off, y, x + off + w - 1, y + h - 1], outline=colour, width=wd)
        draw.text((4, 2), f"frame {i}", fill=(255, 255, 0))
        rows.append(np.pad(np.asarray(img), ((2, 2), (0, 0), (0, 0)), constant_values=255))
    return np.concatenate(rows, 0)


def write_sheets(results: Sequence[ClipAgreement], out_dir: pathlib.Path, worst: int) -> list[pathlib.Path]:
    """PNG contact sheets of the ``worst`` clips by mass kept; returns their paths."""
    from PIL import Image, ImageDraw

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in sorted(results, key=lambda r: r.kept)[:worst]:
        sheet = contact_sheet(r)
        head = np.full((30, sheet.shape[1], 3), 255, np.uint8)
        img = Image.fromarray(np.concatenate([head, sheet], 0))
        draw = ImageDraw.Draw(img)
        draw.text((4, 2), f"{r.name}: student keeps {100 * r.kept:.1f}% of the teacher window's mass, centres "
                          f"{r.centre_distance:.0f} per mille apart", fill=(0, 0, 0))
        draw.text((4, 15), "left: frame; right: teacher's map. green: teacher's window, red: student's, "
                           "white: centre crop", fill=(0, 0, 0))
        path = out_dir / f"{r.name}.png"
        img.save(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    from salcrop_filter.training import datasets

    ap = argparse.ArgumentParser(description="student-vs-teacher crop agreement on the kept-out corpus")
    ap.add_argument("--model", default=str(datasets.repo_root() / "models" / "salcrop-int8.onnx"),
                    help="an .onnx file or an installed model's name (teacher, large)")
    ap.add_argument("--ratio", default="9:16")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clips", default="", help="comma-separated clip names (default: every kept-out clip)")
    ap.add_argument("--out", type=pathlib.Path, help="write the markdown table here")
    ap.add_argument("--sheets", type=pathlib.Path, help="write contact sheets of the worst clips here")
    ap.add_argument("--worst", type=int, default=4)
    ap.add_argument("--compute-teacher", action="store_true", help="compute teacher maps that are not cached")
    args = ap.parse_args(argv)
    looks_like_path = "/" in args.model or args.model.endswith(".onnx")  # else a name the core resolves (teacher)
    if looks_like_path and not pathlib.Path(args.model).is_file():
        ap.error(f"--model {args.model}: no such file")
    _, kept = corpus.split(corpus.load_clips())
    if args.clips:
        names = [c.strip() for c in args.clips.split(",") if c.strip()]
        unknown = sorted(set(names) - {c.name for c in kept})
        if unknown:
            ap.error(f"--clips: not kept-out clips: {', '.join(unknown)}")
        kept = [c for c in kept if c.name in names]
    results = evaluate(kept, args.model, args.ratio, args.threads, args.compute_teacher)
    lines = render_markdown(results, pathlib.Path(args.model).name, args.ratio)
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    if args.sheets:
        for p in write_sheets(results, args.sheets, args.worst):
            print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
