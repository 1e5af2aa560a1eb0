"""What one ``salcrop review`` run holds: its videos, their analyses, edits, plans and renders.

The server (server.py) only translates HTTP to these calls. Work that takes long runs on two background threads:
one analyses the videos in order (the network, once per video), one renders (the encoder); both leave the
request threads free, so the page stays usable while they go.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..croppath import CropPath
from ..pipeline import OptionError, ReframeError, _probe, make_engine, reframe
from .analysis import Analysis, AnalysisOptions, AnalysisProgress, cache_dir, load_or_analyse, \
    model_identity
from .planning import EditError, Edits, Plan, Planner, keyframes_from_json, keyframes_json, ratio_key, \
    subject_of_face, subjects_json, track_subject
from .store import EditStore, write_atomic

__all__ = ["Session", "Video", "NotReady", "Busy", "SessionOptions", "output_stem"]


class NotReady(Exception):
    """The video's analysis has not finished (or failed); the message says which."""


class Busy(Exception):
    """The same output is being rendered already."""


@dataclass(frozen=True)
class SessionOptions:
    analysis: AnalysisOptions = AnalysisOptions()
    smoothing: float | None = None
    lookahead: float | None = None
    output_dir: Path | None = None  # None: beside each input
    keep_edits: bool = True  # save edits in the cache (reopening the video resumes them)


def output_stem(src: Path, ratio: str) -> str:
    """in.mp4 at 9:16 -> "in_9x16" (the ratio in the name, so one video's shapes sit side by side)."""
    return f"{src.stem}_{ratio.replace(':', 'x')}"


@dataclass
class Video:
    """One input named on the command line."""

    index: int
    path: Path
    width: int
    height: int
    fps: float
    frames_hint: int | None
    progress: AnalysisProgress = field(default_factory=AnalysisProgress)
    analysis: Analysis | None = None
    planner: Planner | None = None
    edits: EditStore | None = None
    state: str = "queued"  # queued, running, ready, failed
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"id": self.index, "name": self.path.name, "width": self.width, "height": self.height,
                "fps": self.fps, "frames": self.analysis.frames if self.analysis else self.frames_hint,
                "state": self.state}


@dataclass
class RenderJob:
    id: int
    video: int
    ratios: list[str]
    outputs: list[str] = field(default_factory=list)
    state: str = "queued"  # queued, running, done, failed
    ratio: str | None = None  # being rendered now
    done: int = 0
    total: int = 0
    started: float | None = None
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started if self.started else 0.0
        return {"id": self.id, "video": self.video, "ratios": self.ratios, "state": self.state, "ratio": self.ratio,
                "done": self.done, "total": self.total, "outputs": self.outputs, "error": self.error,
                "index": self.ratios.index(self.ratio) if self.ratio in self.ratios else None,
                "rate": round(self.done / elapsed, 1) if elapsed > 0 else 0.0}


class Session:
    def __init__(self, inputs: list[Path], ratios: list[str], options: SessionOptions) -> None:
        """Probes every input (ReframeError naming one that is not a video) and checks the options."""
        self.ratios = ratios
        self.options = options
        self.videos: list[Video] = []
        for i, src in enumerate(inputs):
            probe = _probe(src)
            self.videos.append(Video(i, src, probe.width, probe.height, float(probe.fps), probe.total))
        # Every option checked by the core now (an engine as salcrop would make), not in the background later.
        first = self.videos[0]
        make_engine(first.width, first.height, first.fps, ratios[0], smoothing=options.smoothing,
                    lookahead=options.lookahead, **options.analysis.engine_options())
        model_identity(options.analysis)
        self._renders: dict[int, RenderJob] = {}
        self._rendering: set[Path] = set()
        self._render_queue: queue.Queue[RenderJob | None] = queue.Queue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- background work -------------------------------------------------------------------------

    def start(self) -> None:
        for target, name in ((self._analyse_all, "salcrop-analysis"), (self._render_loop, "salcrop-render")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, wait: float = 30.0) -> None:
        """Ends the background work: a render in progress stops and deletes its temporary file."""
        self._stopping.set()
        for v in self.videos:
            v.progress.cancel = True
        self._render_queue.put(None)
        for t in self._threads:
            t.join(wait)

    def _analyse_all(self) -> None:
        for v in self.videos:
            if self._stopping.is_set():
                return
            v.state = "running"
            v.progress = AnalysisProgress(total=v.frames_hint)
            try:
                a = load_or_analyse(v.path, self.options.analysis, v.progress)
                edits_path = None
                if self.options.keep_edits:
                    edits_path = cache_dir() / f"{a.key}.edits.json"
                v.edits = EditStore(edits_path)
                v.planner = Planner(a, smoothing=self.options.smoothing, lookahead=self.options.lookahead)
                v.analysis = a
                v.state = "ready"
            except (ReframeError, OptionError, OSError) as e:
                v.error, v.state = str(e), "failed"
            except Exception as e:  # a bug: say so on the page, the traceback on the server's terminal
                traceback.print_exc()
                v.error, v.state = f"internal error: {type(e).__name__}: {e}", "failed"
            finally:
                v.progress.finished = time.monotonic()

    # --- queries and edits -----------------------------------------------------------------------

    def video(self, index: int) -> Video:
        if not 0 <= index < len(self.videos):
            raise KeyError(f"no video {index} (this session has {len(self.videos)})")
        return self.videos[index]

    def ready(self, index: int) -> tuple[Video, Analysis, Planner, EditStore]:
        v = self.video(index)
        if v.state == "failed":
            raise NotReady(f"{v.path.name}: the analysis failed: {v.error}")
        if v.analysis is None or v.planner is None or v.edits is None:
            raise NotReady(f"{v.path.name}: the analysis is still running ({v.progress.done} frames done)")
        return v, v.analysis, v.planner, v.edits

    def check_ratio(self, ratio: str) -> str:
        try:
            key, _, _ = ratio_key(ratio)
        except ValueError as e:
            raise EditError(str(e)) from None
        if key not in self.ratios:
            raise EditError(f"ratio {ratio}: this session edits {', '.join(self.ratios)} "
                            f"(start it with --ratio to add others)")
        return key

    def edits(self, index: int, ratio: str) -> tuple[int, Edits]:
        v, a, _, store = self.ready(index)
        version, d = store.get(ratio)
        return version, Edits.from_dict(d, a) if d else Edits()

    def plan(self, index: int, ratio: str) -> tuple[int, Edits, Plan]:
        ratio = self.check_ratio(ratio)
        _, _, planner, _ = self.ready(index)
        version, edits = self.edits(index, ratio)
        return version, edits, planner.plan(ratio, edits)

    def set_edits(self, index: int, ratio: str, body: Any, base: Any) -> tuple[int, Edits, Plan]:
        """Checks and saves a tab's edits for a ratio (StaleEdit if another tab saved since ``base``)."""
        ratio = self.check_ratio(ratio)
        _, a, planner, store = self.ready(index)
        if isinstance(body, dict):  # a page that edits keyframes keeps the picks, pins and ignores
            _, current = self.edits(index, ratio)
            kept = {"subjects": [t.to_dict() for t in current.subjects], "pinned": list(current.pinned),
                    "ignored": list(current.ignored)}
            body = {**{k: v for k, v in kept.items() if k not in body}, **body}
        edits = Edits.from_dict(body, a)
        plan = planner.plan(ratio, edits)  # before saving: edits the core refuses are not saved
        version = store.put(ratio, edits.to_dict(), base)
        return version, edits, plan

    def import_keyframes(self, index: int, ratio: str, text: str, base: Any) -> tuple[int, Edits, Plan]:
        """A keyframes file (salcrop's format) replaces the ratio's keyframes; its modes stay."""
        ratio = self.check_ratio(ratio)
        _, a, _, _ = self.ready(index)
        try:
            keys = keyframes_from_json(text, a)
        except ValueError as e:
            raise EditError(str(e)) from None
        _, current = self.edits(index, ratio)
        edits = Edits.checked(keys, current.modes, a)
        return self.set_edits(index, ratio, edits.to_dict(), base)

    def track_subject(self, index: int, ratio: str, frame: int, box: Any, base: Any,
                      subject: int | None = None) -> tuple[int, Edits, Plan]:
        """A pick (docs/subjects.md): the box on ``frame`` is tracked through its shot by the core's tracker and kept
        in the window. ``subject``: an existing subject's id, redone from this frame on (a drift fixed); None: a new
        subject. Deleting one is an edit without it (set_edits)."""
        ratio = self.check_ratio(ratio)
        v, a, _, _ = self.ready(index)
        if isinstance(frame, bool) or not isinstance(frame, int) or not 0 <= frame < a.frames:
            raise EditError(f"subjects: frame {frame!r} is not one of the video's frames 0..{a.frames - 1}")
        if (not isinstance(box, list) or len(box) != 4 or
                not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in box)):
            raise EditError("subjects: box must be [x, y, w, h] in source pixels")
        x, y, w, h = (float(b) for b in box)
        if not (w >= 4 and h >= 4 and x >= 0 and y >= 0 and x + w <= a.width and y + h <= a.height):
            raise EditError(f"subjects: box [{x:g}, {y:g}, {w:g}, {h:g}] is not a box of at least 4x4 pixels inside "
                            f"the {a.width}x{a.height} picture")
        start, end = next((s, e) for s, e in a.shot_ranges() if s <= frame < e)
        _, current = self.edits(index, ratio)
        previous = None
        if subject is not None:
            previous = next((t for t in current.subjects if t.id == subject), None)
            if previous is None or not previous.first <= frame < previous.end():
                raise EditError(f"subjects: no subject {subject} in the shot of frame {frame}")
        scale = min(1.0, 640 / max(a.width, a.height))
        frames = _decode_range(v.path, start, end, max(1, round(a.width * scale)), max(1, round(a.height * scale)),
                               a.times)
        new_id = subject if subject is not None else max((t.id for t in current.subjects), default=-1) + 1
        track = track_subject(frames, frames.shape[2] / a.width, start, frame, (x, y, w, h), new_id, previous)
        subjects = [t for t in current.subjects if t.id != new_id]
        subjects.insert(next((k for k, t in enumerate(current.subjects) if t.id == new_id), len(subjects)), track)
        body = {**current.to_dict(), "subjects": [t.to_dict() for t in subjects]}
        return self.set_edits(index, ratio, body, base)

    def keep_face(self, index: int, ratio: str, frame: Any, face: Any, base: Any) -> tuple[int, Edits, Plan]:
        """"Keep this person": a face track of a speakers=auto analysis becomes a picked subject (its boxes are the
        subject's track; no box to draw, no tracker to run), in the shot of ``frame``."""
        ratio = self.check_ratio(ratio)
        _, a, planner, _ = self.ready(index)
        if isinstance(frame, bool) or not isinstance(frame, int) or not 0 <= frame < a.frames:
            raise EditError(f"subjects: frame {frame!r} is not one of the video's frames 0..{a.frames - 1}")
        if planner.faces is None:
            raise EditError("subjects: this video was analysed without faces (salcrop review --speakers auto)")
        track = next((t for t in planner.faces if t.id == face), None)
        if isinstance(face, bool) or track is None:
            raise EditError(f"subjects: no face track {face!r} in this video")
        shot = next((s, e) for s, e in a.shot_ranges() if s <= frame < e)
        _, current = self.edits(index, ratio)
        new_id = max((t.id for t in current.subjects), default=-1) + 1
        subject = subject_of_face(track, frame, new_id, shot)
        body = {**current.to_dict(), "subjects": [t.to_dict() for t in (*current.subjects, subject)]}
        return self.set_edits(index, ratio, body, base)

    def subjects_text(self, index: int, ratio: str) -> str:
        ratio = self.check_ratio(ratio)
        _, edits = self.edits(index, ratio)
        return subjects_json(edits)

    def crop_path(self, index: int, ratio: str) -> CropPath:
        _, edits, plan = self.plan(index, ratio)
        path = plan.crop_path(self.video(index).analysis)  # type: ignore[arg-type]
        if edits.subjects:  # as salcrop writes them: per frame the first pick seen there, per shot the ones kept
            path.with_subjects = True
            for t in edits.subjects:
                for k, (x, y, w, h, lost) in enumerate(t.points):
                    f = path.frames[t.first + k]
                    if not lost and f.subject is None:
                        f.subject = (x, y, w, h)
                        shot = path.shots[f.shot]
                        shot.subjects = sorted({*(shot.subjects or []), t.id})
        return path

    def keyframes_text(self, index: int, ratio: str) -> str:
        ratio = self.check_ratio(ratio)
        _, edits = self.edits(index, ratio)
        return keyframes_json(edits)

    def output_dir(self, v: Video) -> Path:
        return self.options.output_dir if self.options.output_dir is not None else v.path.parent

    def export(self, index: int, ratio: str) -> list[str]:
        """Writes the ratio's path JSON and keyframes JSON beside the input (or into -o); returns their paths."""
        ratio = self.check_ratio(ratio)
        v = self.video(index)
        path = self.crop_path(index, ratio)
        path.validate()
        stem = output_stem(v.path, ratio)
        out = self.output_dir(v)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        files = [(f"{stem}.path.json", path.to_json()), (f"{stem}.keyframes.json", self.keyframes_text(index, ratio))]
        if path.with_subjects:
            files.append((f"{stem}.subjects.json", self.subjects_text(index, ratio)))
        for name, text in files:
            write_atomic(out / name, text)
            written.append(str(out / name))
        return written

    # --- renders ---------------------------------------------------------------------------------

    def render(self, index: int, ratios: list[str]) -> RenderJob:
        if not ratios:
            raise EditError("render: name at least one ratio")
        keys = [self.check_ratio(r) for r in ratios]
        if len(set(keys)) != len(keys):
            raise EditError(f"render: a ratio is given twice ({', '.join(ratios)})")
        v, _, _, _ = self.ready(index)
        dsts = [self._render_dst(v, r) for r in keys]
        with self._lock:
            busy = [d.name for d in dsts if d in self._rendering]
            if busy:
                raise Busy(f"{', '.join(busy)} is being rendered already; wait for it to finish")
            self._rendering.update(dsts)
            job = RenderJob(len(self._renders) + 1, index, keys)
            self._renders[job.id] = job
        self._render_queue.put(job)
        return job

    def render_job(self, job_id: int) -> RenderJob:
        with self._lock:
            job = self._renders.get(job_id)
        if job is None:
            raise KeyError(f"no render job {job_id}")
        return job

    def _render_dst(self, v: Video, ratio: str) -> Path:
        return self.output_dir(v) / (output_stem(v.path, ratio) + ".mp4")

    def _render_loop(self) -> None:
        while (job := self._render_queue.get()) is not None:
            v = self.videos[job.video]
            dsts = [self._render_dst(v, r) for r in job.ratios]
            job.state, job.started = "running", time.monotonic()
            try:
                for ratio, dst in zip(job.ratios, dsts):
                    job.ratio, job.done = ratio, 0
                    path = self.crop_path(job.video, ratio)
                    job.total = len(path.frames)

                    def progress(done: int, total: int | None) -> None:
                        job.done = done
                        if self._stopping.is_set():
                            raise ReframeError("the editor was stopped")

                    dst.parent.mkdir(parents=True, exist_ok=True)
                    # The planned path, rendered as `salcrop --path-in` renders one: written under a temporary
                    # name and renamed when complete (pipeline.VideoWriter).
                    reframe(v.path, dst, ratio, path_in=path, progress=progress)
                    job.outputs.append(str(dst))
                job.state = "done"
            except (ReframeError, OptionError, EditError, NotReady, ValueError, OSError) as e:
                job.error, job.state = str(e), "failed"
            except Exception as e:
                traceback.print_exc()
                job.error, job.state = f"internal error: {type(e).__name__}: {e}", "failed"
            finally:
                with self._lock:
                    self._rendering.difference_update(dsts)

    # --- for the page ----------------------------------------------------------------------------

    def maps_u8(self, index: int) -> tuple[bytes, tuple[int, int, int]]:
        """Every frame's map scaled to 0..255 by its own peak (for drawing only), and the shape."""
        _, a, _, _ = self.ready(index)
        peak = a.maps.reshape(a.frames, -1).max(axis=1)
        scaled = a.maps / np.maximum(peak, 1e-12)[:, None, None] * 255.0
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8).tobytes(), tuple(a.maps.shape)  # type: ignore


def _decode_range(path: Path, start: int, end: int, width: int, height: int, times: np.ndarray) -> np.ndarray:
    """Frames [start, end) of a video, grey at width x height (the tracker's input). Seeks to the keyframe before
    the shot and knows its frames by their times (the analysis's); decodes from the start when that does not give
    exactly the shot's frames."""
    import av

    half = 0.5 * (float(np.median(np.diff(times))) if len(times) > 1 else 1.0)

    def decode(seek: bool) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        with av.open(str(path), metadata_errors="replace") as c:  # as pipeline._open_input reads its inputs
            stream = c.streams.video[0]
            stream.thread_type = "AUTO"
            first = float(times[start]) - half
            if seek and start > 0 and stream.time_base:
                c.seek(max(0, int(first / float(stream.time_base))), stream=stream, backward=True)
            k = None if seek else -1
            for f in c.decode(stream):
                if seek:
                    if f.time is None or f.time < first:
                        continue
                else:
                    k += 1
                    if k < start:
                        continue
                if len(out) >= end - start:
                    break
                if seek and not out and abs(f.time - float(times[start])) > half:
                    return []  # not the analysis's frame: decode from the start instead
                out.append(f.to_ndarray(format="gray", width=width, height=height))
        return out

    frames = decode(seek=True)
    if len(frames) != end - start:
        frames = decode(seek=False)
    if len(frames) != end - start:
        raise EditError(f"subjects: the video gave {len(frames)} of frames {start}..{end - 1}")
    return np.stack(frames)
